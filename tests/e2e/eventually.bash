# Shared by the e2e helpers (`load ../eventually` from a test directory).

# Runs CMD... until it succeeds, every 0.05 s for at most 10 s; on a timeout it says
# what it waited for and what the last try printed, and fails.
eventually() {
    local i out
    for i in $(seq 1 200); do
        out=$("$@" 2>&1) && return 0
        sleep 0.05
    done
    echo "timed out waiting for: $* (last try: $out)"
    return 1
}
