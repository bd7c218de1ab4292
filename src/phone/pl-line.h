/* pl-line.h — one registered number on one server, and its calls
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "pl-call.h"
#include "pl-media.h"

G_BEGIN_DECLS

#define PL_TYPE_LINE (pl_line_get_type ())

G_DECLARE_FINAL_TYPE (PlLine, pl_line, PL, LINE, GObject)

PlLine     *pl_line_new                  (const char          *server_url,
                                          const char          *number,
                                          const char          *token,
                                          const PlMediaConfig *config);
const char *pl_line_get_number           (PlLine *self);
const char *pl_line_get_server_url       (PlLine *self);
gboolean    pl_line_is_registered        (PlLine *self);

#define PL_LINE_DEFAULT_RING_TIMEOUT_S 60
/* Calls at once, counting those still being torn down: each is a pipeline
 * (about 2.5 MB and 18 threads), so what callers can make a phone hold is
 * bounded too. 128 is past what this machine carries with clean audio
 * (docs/PERFORMANCE.md, capacity). */
#define PL_LINE_DEFAULT_MAX_CALLS      128

/* An outgoing call not answered in @seconds ends with reason "timeout";
 * 0 waits for ever. */
void        pl_line_set_ring_timeout     (PlLine *self,
                                          guint   seconds);

/* Connecting to the server, and its answer to `register`, each get
 * @seconds (PL_SIGNALING_DEFAULT_REGISTER_TIMEOUT_S); 0 waits for ever.
 * Before pl_line_register_async (). */
void        pl_line_set_register_timeout (PlLine *self,
                                          guint   seconds);

/* At most @max_calls calls at once (>= 1): past it an incoming call is
 * refused with `hangup` `busy` before any pipeline is built, and a dial
 * fails. */
void        pl_line_set_max_calls        (PlLine *self,
                                          guint   max_calls);

/* Answer every incoming call after @delay_ms; -1 turns it off. */
void        pl_line_set_auto_answer      (PlLine *self,
                                          int     delay_ms);

void        pl_line_register_async       (PlLine             *self,
                                          GCancellable       *cancellable,
                                          GAsyncReadyCallback callback,
                                          gpointer            user_data);
gboolean    pl_line_register_finish      (PlLine       *self,
                                          GAsyncResult *result,
                                          GError      **error);

/* Dials @number: the pipeline is built and the offer made now. @dialed_at
 * (g_get_monotonic_time ()) is where setup times count from. */
PlCall     *pl_line_dial                 (PlLine     *self,
                                          const char *number,
                                          gint64      dialed_at,
                                          GError    **error);

/* The live (not ending) call with @number, or NULL. */
PlCall     *pl_line_lookup_call          (PlLine     *self,
                                          const char *number);
/* The live calls, oldest first: a new array that holds a ref on each. */
GPtrArray  *pl_line_get_calls            (PlLine *self);
/* Pipelines that exist: live calls and calls still going to NULL. */
guint       pl_line_get_pipeline_count   (PlLine *self);

/* Hangs up @calls together (every call of the line, and every call still
 * ending, when @calls is NULL) and completes when the last of their
 * pipelines is in NULL. Nothing waits with a sleep. */
void        pl_line_hang_up_group_async  (PlLine             *self,
                                          GPtrArray          *calls,
                                          PlHangupReason      reason,
                                          GAsyncReadyCallback callback,
                                          gpointer            user_data);
gboolean    pl_line_hang_up_group_finish (PlLine       *self,
                                          GAsyncResult *result,
                                          guint        *out_count,
                                          GError      **error);

/* Completes once no call of the line has a pipeline and every pipeline kept
 * after NULL (docs/webrtcbin-1.22.md, teardown step 6) is released: the moment to
 * compare a process's resources with its baseline. It does not hang up. */
void        pl_line_settle_async         (PlLine             *self,
                                          GAsyncReadyCallback callback,
                                          gpointer            user_data);
gboolean    pl_line_settle_finish        (PlLine       *self,
                                          GAsyncResult *result,
                                          GError      **error);

/* Hangs up every call, waits for every pipeline to reach NULL, closes the
 * WebSocket normally, then waits (at most 5 s) until nothing lingers after
 * NULL either, as pl_line_settle_async () does. */
void        pl_line_shutdown_async       (PlLine             *self,
                                          GAsyncReadyCallback callback,
                                          gpointer            user_data);
gboolean    pl_line_shutdown_finish      (PlLine       *self,
                                          GAsyncResult *result,
                                          GError      **error);

G_END_DECLS
