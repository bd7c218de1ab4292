/* pl-event-log.c
 *
 * The log is written by the widgets themselves, from their property
 * notifications (a label's text, a level bar's value), so that it reports
 * what is on screen, not what the phone said. Tests read it. The lines are
 * written as partyline-cli's are (pl-json-line.h).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "pl-event-log"

#include "config.h"

#include "pl-event-log.h"

#include <stdio.h>

static gint64 started_at = -1;

void
pl_event_log_enable (void)
{
  if (started_at < 0)
    started_at = g_get_monotonic_time ();
}

gboolean
pl_event_log_enabled (void)
{
  return started_at >= 0;
}

PlEvent *
pl_event_log_begin (const char *name)
{
  g_return_val_if_fail (name != NULL, NULL);

  if (started_at < 0)
    return NULL;

  return pl_json_line_new (name, (g_get_monotonic_time () - started_at) / (double) G_USEC_PER_SEC);
}

void
pl_event_log_end (PlEvent *event)
{
  g_autofree char *json = NULL;

  if (event == NULL)
    return;

  json = pl_json_line_free_to_string (event);
  printf ("%s\n", json);
  fflush (stdout);
}

void
pl_event_log_add_string (PlEvent    *event,
                         const char *name,
                         const char *value)
{
  if (event != NULL)
    pl_json_line_add_string (event, name, value);
}

void
pl_event_log_add_double (PlEvent    *event,
                         const char *name,
                         double      value)
{
  if (event != NULL)
    pl_json_line_add_double (event, name, value, 3);
}

void
pl_event_log_add_int (PlEvent    *event,
                      const char *name,
                      gint64      value)
{
  if (event != NULL)
    pl_json_line_add_int (event, name, value);
}

void
pl_event_log_add_bool (PlEvent    *event,
                       const char *name,
                       gboolean    value)
{
  if (event != NULL)
    pl_json_line_add_bool (event, name, value);
}
