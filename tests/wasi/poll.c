/* poll_oneoff: relative and absolute clock subscriptions (the wait lasts at least the
 * timeout), fd_read on stdin with data and fd_write on stdout (ready at once), several at
 * once (the clock one does not fire first), events carry userdata and type; EBADF in the
 * event for a bad fd; EINVAL for no subscriptions. Also libc nanosleep/poll. */
#include "common.h"
#include <poll.h>
#include <time.h>

static __wasi_timestamp_t mono(void) {
    __wasi_timestamp_t t;
    MUST(__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t));
    return t;
}

static __wasi_subscription_t clock_sub(uint64_t ud, __wasi_clockid_t id, uint64_t timeout, int abs) {
    __wasi_subscription_t s;
    memset(&s, 0, sizeof s);
    s.userdata = ud;
    s.u.tag = __WASI_EVENTTYPE_CLOCK;
    s.u.u.clock.id = id;
    s.u.u.clock.timeout = timeout;
    s.u.u.clock.precision = 0;
    s.u.u.clock.flags = abs ? __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME : 0;
    return s;
}

static __wasi_subscription_t fd_sub(uint64_t ud, uint8_t tag, __wasi_fd_t fd) {
    __wasi_subscription_t s;
    memset(&s, 0, sizeof s);
    s.userdata = ud;
    s.u.tag = tag;
    s.u.u.fd_read.file_descriptor = fd;
    return s;
}

static const char *etype(uint8_t t) {
    return t == 0 ? "CLOCK" : t == 1 ? "FD_READ" : t == 2 ? "FD_WRITE" : "?";
}

int main(void) {
    __wasi_event_t ev[4];
    size_t n;

    __wasi_subscription_t s = clock_sub(0x1234, __WASI_CLOCKID_MONOTONIC, 30000000, 0);
    __wasi_timestamp_t t0 = mono();
    SHOW("relative 30ms", __wasi_poll_oneoff(&s, ev, 1, &n));
    __wasi_timestamp_t dt = mono() - t0;
    printf("  events=%zu userdata=0x%llx error=%s type=%s waited>=30ms: %s <5s: %s\n", n,
           (unsigned long long)ev[0].userdata, errname(ev[0].error), etype(ev[0].type),
           yesno(dt >= 30000000), yesno(dt < 5000000000ull));

    t0 = mono();
    s = clock_sub(7, __WASI_CLOCKID_MONOTONIC, t0 + 20000000, 1);
    SHOW("absolute monotonic +20ms", __wasi_poll_oneoff(&s, ev, 1, &n));
    printf("  events=%zu userdata=%llu waited>=20ms: %s\n", n, (unsigned long long)ev[0].userdata,
           yesno(mono() - t0 >= 20000000));

    s = clock_sub(8, __WASI_CLOCKID_MONOTONIC, 0, 0);
    SHOW("relative 0", __wasi_poll_oneoff(&s, ev, 1, &n));
    printf("  events=%zu type=%s\n", n, etype(ev[0].type));

    __wasi_timestamp_t now;
    MUST(__wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 1, &now));
    s = clock_sub(9, __WASI_CLOCKID_REALTIME, now - 1000000000ull, 1);
    SHOW("absolute realtime in the past", __wasi_poll_oneoff(&s, ev, 1, &n));
    printf("  events=%zu userdata=%llu\n", n, (unsigned long long)ev[0].userdata);

    /* stdout is always writable: the fd_write event comes first, without waiting 5s. */
    __wasi_subscription_t subs[2] = {clock_sub(1, __WASI_CLOCKID_MONOTONIC, 5000000000ull, 0),
                                     fd_sub(2, __WASI_EVENTTYPE_FD_WRITE, 1)};
    t0 = mono();
    SHOW("fd_write(stdout) + 5s clock", __wasi_poll_oneoff(subs, ev, 2, &n));
    int saw_write = 0, saw_clock = 0;
    for (size_t i = 0; i < n; i++) {
        if (ev[i].userdata == 2 && ev[i].type == __WASI_EVENTTYPE_FD_WRITE && ev[i].error == 0) saw_write = 1;
        if (ev[i].userdata == 1) saw_clock = 1;
    }
    printf("  fd_write event: %s, clock event: %s, returned before 5s: %s\n", yesno(saw_write),
           yesno(saw_clock), yesno(mono() - t0 < 4000000000ull));

    /* stdin has data (the harness feeds it): readable at once, nbytes > 0 where known. */
    subs[1] = fd_sub(3, __WASI_EVENTTYPE_FD_READ, 0);
    t0 = mono();
    SHOW("fd_read(stdin with data) + 5s clock", __wasi_poll_oneoff(subs, ev, 2, &n));
    int saw_read = 0;
    for (size_t i = 0; i < n; i++)
        if (ev[i].userdata == 3 && ev[i].type == __WASI_EVENTTYPE_FD_READ && ev[i].error == 0) saw_read = 1;
    printf("  fd_read event: %s, returned before 5s: %s\n", yesno(saw_read), yesno(mono() - t0 < 4000000000ull));

    /* A file is always ready. */
    __wasi_fd_t fd;
    MUST(open_at(SANDBOX, "hello.txt", 0, 0, &fd));
    __wasi_subscription_t fs[2] = {fd_sub(4, __WASI_EVENTTYPE_FD_READ, fd), fd_sub(5, __WASI_EVENTTYPE_FD_WRITE, fd)};
    SHOW("fd_read + fd_write on a regular file", __wasi_poll_oneoff(fs, ev, 2, &n));
    int ok = n >= 1 && n <= 2;
    for (size_t i = 0; i < n; i++)
        if ((ev[i].userdata != 4 && ev[i].userdata != 5) || ev[i].error != 0) ok = 0;
    printf("  one or both ready at once, without error: %s\n", yesno(ok));
    __wasi_fd_close(fd);

    /* A bad fd is reported in its event (or as the call's error). */
    s = fd_sub(6, __WASI_EVENTTYPE_FD_READ, 99);
    __wasi_errno_t e = __wasi_poll_oneoff(&s, ev, 1, &n);
    if (e == 0)
        printf("fd_read(fd 99): events=%zu userdata=%llu error=%s\n", n, (unsigned long long)ev[0].userdata,
               errname(ev[0].error));
    else
        printf("fd_read(fd 99): events=1 userdata=6 error=%s\n", errname(e));

    SHOW("no subscriptions", __wasi_poll_oneoff(&s, ev, 0, &n));

    struct timespec ts = {0, 15000000};
    t0 = mono();
    printf("libc nanosleep 15ms: %d, waited>=15ms: %s\n", nanosleep(&ts, NULL), yesno(mono() - t0 >= 15000000));
    struct pollfd pfd = {.fd = 1, .events = POLLOUT};
    printf("libc poll(stdout, POLLOUT): %d revents has POLLOUT: %s\n", poll(&pfd, 1, 1000),
           yesno(pfd.revents & POLLOUT));
    return 0;
}
