/* The attach protocol between husk-monitor (monitor/husk-monitor.c, C) and the client
 * in husk (engine/monitor.cpp, C++): defined here once, for both.
 *
 * The monitor listens on HUSK_ATTACH_SOCKET in the container's directory (bound by husk
 * before the container is created, so a client connecting early misses nothing). Each
 * direction is a stream of frames: {u8 type, u32 big-endian payload length, payload}.
 *   monitor -> client: STDOUT, STDERR (output), EXIT (payload: the decimal exit code)
 *   client -> monitor: STDIN (input), RESIZE ("ROWS COLS"), CLOSE_STDIN (empty),
 *                      NO_RESTART (empty: stopped through husk, the restart policy ends),
 *                      HOLD (empty, one fd attached by SCM_RIGHTS: the monitor holds it
 *                      until it ends, in place of the one held before: slirp4netns's exit
 *                      pipe, engine/monitor.h hand_to_monitor)
 */
#ifndef HUSK_MONITOR_ATTACH_PROTOCOL_H
#define HUSK_MONITOR_ATTACH_PROTOCOL_H

#include <stddef.h>

#define HUSK_ATTACH_SOCKET "attach.sock"

enum husk_attach_frame {
    HUSK_ATTACH_STDIN = 0,
    HUSK_ATTACH_STDOUT = 1,
    HUSK_ATTACH_STDERR = 2,
    HUSK_ATTACH_EXIT = 3,
    HUSK_ATTACH_RESIZE = 4,
    HUSK_ATTACH_CLOSE_STDIN = 5,
    HUSK_ATTACH_NO_RESTART = 6,
    HUSK_ATTACH_HOLD = 7,
};

/* Bytes of a frame's header: the type, then the payload length. */
enum { HUSK_ATTACH_HEADER_SIZE = 5 };

/* Writes the header of a frame of `type` carrying `len` bytes. */
static inline void husk_attach_header(unsigned char h[HUSK_ATTACH_HEADER_SIZE], int type,
                                      size_t len) {
    h[0] = (unsigned char)type;
    h[1] = (unsigned char)(len >> 24);
    h[2] = (unsigned char)(len >> 16);
    h[3] = (unsigned char)(len >> 8);
    h[4] = (unsigned char)len;
}

/* The payload length a frame's header announces. */
static inline size_t husk_attach_length(const unsigned char h[HUSK_ATTACH_HEADER_SIZE]) {
    return ((size_t)h[1] << 24) | ((size_t)h[2] << 16) | ((size_t)h[3] << 8) | (size_t)h[4];
}

#endif
