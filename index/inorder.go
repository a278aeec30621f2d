package index

import "runtime"

// inOrder runs work on every core over the jobs produce sends, and hands
// each result to consume in the order its job was sent: decoding stored
// events is the costly part of every bulk read of the store, and its
// readers need the store's order (EachStored) or time's (StreamAs). At
// most ahead jobs per core wait for consume. send returns false once
// consume has failed, and produce should then return. The error is
// consume's, or else produce's once every result sent before it was
// consumed.
func inOrder[J, R any](ahead int, produce func(send func(J) bool) error, work func(J) R, consume func(R) error) error {
	type job struct {
		j   J
		out chan R
	}
	workers := runtime.NumCPU()
	pending := make(chan chan R, ahead*workers) // results to come, in order
	jobs := make(chan job)
	stop := make(chan struct{})
	errc := make(chan error, 1)
	for range workers {
		go func() {
			for jb := range jobs {
				jb.out <- work(jb.j)
			}
		}()
	}
	go func() {
		defer close(pending)
		defer close(jobs)
		errc <- produce(func(j J) bool {
			out := make(chan R, 1) // a worker never waits on consume
			select {
			case pending <- out:
			case <-stop:
				return false
			}
			jobs <- job{j, out}
			return true
		})
	}()
	for out := range pending {
		if err := consume(<-out); err != nil {
			close(stop)
			for range pending { // let produce see stop and end
			}
			<-errc
			return err
		}
	}
	return <-errc
}
