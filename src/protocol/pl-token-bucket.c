/* pl-token-bucket.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "pl-token-bucket.h"

void
pl_token_bucket_init (PlTokenBucket *bucket,
                      double         burst,
                      gint64         now)
{
  bucket->tokens = burst;
  bucket->refill_time = now;
}

gboolean
pl_token_bucket_take (PlTokenBucket *bucket,
                      double         rate,
                      double         burst,
                      gint64         now)
{
  bucket->tokens += (double) (now - bucket->refill_time) * rate / G_USEC_PER_SEC;
  bucket->tokens = MIN (bucket->tokens, burst);
  bucket->refill_time = now;

  if (bucket->tokens < 1.0)
    return FALSE;

  bucket->tokens -= 1.0;

  return TRUE;
}

guint
pl_token_bucket_next_ms (PlTokenBucket *bucket,
                         double         rate)
{
  return (guint) ((1.0 - bucket->tokens) * 1000.0 / rate) + 1;
}
