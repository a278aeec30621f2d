// Package reports will render findings into verdicts and reports (issue 4).
// It is empty until then.
package reports
