/* pl-types.h — plain types shared by the phone and its frontends
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Statistics of a call, from webrtcbin's get-stats; a field is negative while
 * webrtcbin has not measured it (the round-trip time needs an RTCP report). */
typedef struct {
  double  rtt_ms;
  gint64  packets_received;
  gint64  packets_lost;
  double  jitter_ms;
} PlCallStats;

G_END_DECLS
