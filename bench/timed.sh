# Sourced by bench/mix.sh and bench/proxy.sh, with $out set.
timed() { # NAME COMMAND...: wall time and peak RSS of one command
  local name=$1; shift
  local s e; s=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$out/rss" "$@" >"$out/stdout" 2>"$out/stderr" || { echo "$name failed:"; tail -5 "$out/stderr"; return 1; }
  e=$(date +%s.%N)
  awk -v s="$s" -v e="$e" -v rss="$(tail -1 "$out/rss")" -v name="$name" 'BEGIN{printf "%-46s %8.2f s  peak RSS %d MiB\n",name,e-s,rss/1024}'
}
