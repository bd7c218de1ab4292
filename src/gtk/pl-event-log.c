/* pl-event-log.c
 *
 * The log is written by the widgets themselves, from their property
 * notifications (a label's text, a level bar's value), so that it reports
 * what is on screen, not what the core said. Tests read it. JSON is written
 * by hand, as partyline-cli does, so that numbers keep the precision they
 * mean.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "pl-event-log"

#include "config.h"

#include "pl-event-log.h"

#include <math.h>
#include <stdio.h>

struct _PlEvent
{
  GString *json;
};

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

static void
append_json_string (GString    *out,
                    const char *value)
{
  g_string_append_c (out, '"');
  for (const char *p = value; *p; p++) {
    guchar c = *p;

    if (c == '"' || c == '\\')
      g_string_append_printf (out, "\\%c", c);
    else if (c < 0x20)
      g_string_append_printf (out, "\\u%04x", c);
    else
      g_string_append_c (out, c);
  }
  g_string_append_c (out, '"');
}

static void
add_name (PlEvent    *event,
          const char *name)
{
  g_string_append_c (event->json, ',');
  append_json_string (event->json, name);
  g_string_append_c (event->json, ':');
}

PlEvent *
pl_event_log_begin (const char *name)
{
  PlEvent *event;

  g_return_val_if_fail (name != NULL, NULL);

  if (started_at < 0)
    return NULL;

  event = g_new0 (PlEvent, 1);
  event->json = g_string_new ("{\"event\":");
  append_json_string (event->json, name);
  pl_event_log_add_double (event, "t", (g_get_monotonic_time () - started_at) / (double) G_USEC_PER_SEC);

  return event;
}

void
pl_event_log_end (PlEvent *event)
{
  if (event == NULL)
    return;

  g_string_append_c (event->json, '}');
  printf ("%s\n", event->json->str);
  fflush (stdout);

  g_string_free (event->json, TRUE);
  g_free (event);
}

void
pl_event_log_add_string (PlEvent    *event,
                         const char *name,
                         const char *value)
{
  if (event == NULL)
    return;

  add_name (event, name);
  if (value != NULL)
    append_json_string (event->json, value);
  else
    g_string_append (event->json, "null");
}

void
pl_event_log_add_double (PlEvent    *event,
                         const char *name,
                         double      value)
{
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];

  if (event == NULL)
    return;

  add_name (event, name);
  if (isfinite (value))
    g_string_append (event->json, g_ascii_formatd (buffer, sizeof buffer, "%.3f", value));
  else
    g_string_append (event->json, "null");
}

void
pl_event_log_add_int (PlEvent    *event,
                      const char *name,
                      gint64      value)
{
  if (event == NULL)
    return;

  add_name (event, name);
  g_string_append_printf (event->json, "%" G_GINT64_FORMAT, value);
}

void
pl_event_log_add_bool (PlEvent    *event,
                       const char *name,
                       gboolean    value)
{
  if (event == NULL)
    return;

  add_name (event, name);
  g_string_append (event->json, value ? "true" : "false");
}
