/* pl-token-bucket.h — the protocol's rate limit, as a token bucket
 *
 * The server drops what a connection sends beyond its limit (docs/protocol.md,
 * "error (server → phone)", the rate limit); a phone paces what it sends under
 * the same limit. Both count with this: @rate tokens a second, at most @burst
 * saved. Rate and burst are passed on every call, so that a change of the
 * limit applies at once.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  double tokens;
  gint64 refill_time;   /* g_get_monotonic_time () of the last refill */
} PlTokenBucket;

/* Full: a new connection may send a whole burst at once. */
void     pl_token_bucket_init     (PlTokenBucket *bucket,
                                   double         burst,
                                   gint64         now);
/* Refills for the time since the last call, then takes one token if there
 * is one. */
gboolean pl_token_bucket_take     (PlTokenBucket *bucket,
                                   double         rate,
                                   double         burst,
                                   gint64         now);
/* Milliseconds until the next token, at least 1 (rounded up). */
guint    pl_token_bucket_next_ms  (PlTokenBucket *bucket,
                                   double         rate);

G_END_DECLS
