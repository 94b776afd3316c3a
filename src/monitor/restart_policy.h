/* Restart policies (docker's --restart) and their backoff: defined once, here, for the
 * monitor that carries them out (monitor/husk-monitor.c, C, no heap) and for the engine
 * that parses the flag and decides at boot (engine/restart.cpp, C++).
 *
 *   no | on-failure[:N] | always | unless-stopped
 *
 * After an exit the monitor restarts the container when the policy wants it and nobody
 * stopped it through husk (stop, kill, rm: remembered as a manual stop). The delay
 * before a restart is docker's: 100 ms, doubled at each restart, at most one minute,
 * and back to 100 ms after a run of at least 10 seconds. */
#ifndef HUSK_MONITOR_RESTART_POLICY_H
#define HUSK_MONITOR_RESTART_POLICY_H

/* In the container's directory: the policy `husk update --restart` gave a running container
 * (its text and a newline); the monitor reads it at each exit, over the one it started with. */
#define HUSK_RESTART_POLICY_FILE "restart-policy"

#include <stdlib.h>
#include <string.h>

enum husk_restart_kind {
    HUSK_RESTART_NO = 0,
    HUSK_RESTART_ON_FAILURE = 1,
    HUSK_RESTART_ALWAYS = 2,
    HUSK_RESTART_UNLESS_STOPPED = 3,
};

struct husk_restart_policy {
    int kind;        /* enum husk_restart_kind */
    int max_retries; /* on-failure:N; 0: no limit */
};

enum {
    HUSK_RESTART_FIRST_DELAY_MS = 100,
    HUSK_RESTART_MAX_DELAY_MS = 60000,
    HUSK_RESTART_RESET_AFTER_MS = 10000,
};

/* Parses the policy's text; 0 when it is one, -1 otherwise (an unknown name, a count
 * that is not a non-negative integer, a count on another policy than on-failure). */
static inline int husk_restart_parse(const char* s, struct husk_restart_policy* out) {
    out->kind = HUSK_RESTART_NO;
    out->max_retries = 0;
    const char* colon = strchr(s, ':');
    size_t n = colon ? (size_t)(colon - s) : strlen(s);
    if (n == 2 && strncmp(s, "no", 2) == 0)
        out->kind = HUSK_RESTART_NO;
    else if (n == 10 && strncmp(s, "on-failure", 10) == 0)
        out->kind = HUSK_RESTART_ON_FAILURE;
    else if (n == 6 && strncmp(s, "always", 6) == 0)
        out->kind = HUSK_RESTART_ALWAYS;
    else if (n == 14 && strncmp(s, "unless-stopped", 14) == 0)
        out->kind = HUSK_RESTART_UNLESS_STOPPED;
    else
        return -1;
    if (!colon) return 0;
    if (out->kind != HUSK_RESTART_ON_FAILURE || colon[1] == '\0') return -1;
    long v = 0;
    for (const char* p = colon + 1; *p; ++p) {
        if (*p < '0' || *p > '9' || v > 100000000) return -1;
        v = v * 10 + (*p - '0');
    }
    out->max_retries = (int)v;
    return 0;
}

/* Whether a container that ended with `exit_code` after `restarts` restarts is started
 * again; never after a manual stop. */
static inline int husk_restart_wanted(const struct husk_restart_policy* p, int exit_code,
                                      int restarts, int manually_stopped) {
    if (manually_stopped) return 0;
    switch (p->kind) {
        case HUSK_RESTART_ALWAYS:
        case HUSK_RESTART_UNLESS_STOPPED:
            return 1;
        case HUSK_RESTART_ON_FAILURE:
            return exit_code != 0 && (p->max_retries == 0 || restarts < p->max_retries);
        default:
            return 0;
    }
}

/* The delay before the next restart, given the previous delay (0: none yet) and how long
 * the run that just ended lasted. */
static inline long husk_restart_next_delay_ms(long previous_ms, long uptime_ms) {
    if (uptime_ms >= HUSK_RESTART_RESET_AFTER_MS) previous_ms = 0;
    long d = previous_ms == 0 ? (long)HUSK_RESTART_FIRST_DELAY_MS : previous_ms * 2;
    return d > (long)HUSK_RESTART_MAX_DELAY_MS ? (long)HUSK_RESTART_MAX_DELAY_MS : d;
}

#endif
