/* pl-event-log.h — `partyline --json`: what the window shows, as JSON lines
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

#include "pl-json-line.h"

G_BEGIN_DECLS

typedef PlJsonLine PlEvent;

/* From now on events are written to standard output, one JSON object a line,
 * with "event" and "t" (seconds since enabled) first. */
void      pl_event_log_enable  (void);
gboolean  pl_event_log_enabled (void);

/* NULL when the log is off (every function below accepts NULL); otherwise
 * an event with "event" and "t" set: add fields, then pl_event_log_end (). */
PlEvent  *pl_event_log_begin      (const char *event);
void      pl_event_log_end        (PlEvent    *event);

void      pl_event_log_add_string (PlEvent    *event,
                                   const char *name,
                                   const char *value);
/* Three decimals. */
void      pl_event_log_add_double (PlEvent    *event,
                                   const char *name,
                                   double      value);
void      pl_event_log_add_int    (PlEvent    *event,
                                   const char *name,
                                   gint64      value);
void      pl_event_log_add_bool   (PlEvent    *event,
                                   const char *name,
                                   gboolean    value);

G_END_DECLS
