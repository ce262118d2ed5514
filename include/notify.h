/* systemd readiness protocol (sd_notify) without linking libsystemd: one
 * datagram to $NOTIFY_SOCKET. A no-op when not started by systemd. */
#ifndef RP_NOTIFY_H
#define RP_NOTIFY_H
void rp_notify(const char *state);
#endif
