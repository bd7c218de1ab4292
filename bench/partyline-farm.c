/* partyline-farm.c — many auto-answering Partyline lines in one process
 *
 * For capacity benchmarks: one process registers PREFIX0 … PREFIX(N-1) on the
 * server, answers every call, and reports what each call hears, as JSON lines
 * like partyline-cli's (`registered` once all lines are, then `call`, `audio`
 * and `media` events with the answering `number`). All the lines send the same
 * tone, so they share one capture and encoder (PlSharedSource), as the calls
 * of one partyline-cli do. `call`, `audio` and `media` carry the `call_id`
 * too; `active` carries `setup_ms`, `ended` `reason`, `duration_ms` and
 * `teardown_ms`, as partyline-cli's do.
 *
 * Commands on stdin, as partyline-cli's: `resources` (what the process holds,
 * summed over the lines, and the longest main-loop stall since the previous
 * `resources reset`; and max_busy_ms, the same less the main thread's
 * run-queue waits), `resources reset`, `settle` (the `resources` event once
 * no line has a pipeline left, lingering ones included), `stats` (one `stats`
 * event per call, as partyline-cli's `stats N`), `quit`.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "partyline-farm"

#include "config.h"

#include "pl-json-line.h"
#include "pl-line.h"
#include "pl-media.h"
#include "pl-process.h"
#include "pl-resources.h"

#include <gio/gio.h>
#include <gio/gunixinputstream.h>
#include <glib-unix.h>

#include <signal.h>
#include <stdio.h>
#include <unistd.h>

typedef struct {
  GMainLoop        *loop;
  GPtrArray        *lines;
  GDataInputStream *input;
  gint64            started_at;
  guint             registering;
  guint             shutting_down;
  guint             settling;     /* lines a `settle` still waits for */
  int               status;
} Farm;

static double
now_s (Farm *farm)
{
  return (g_get_monotonic_time () - farm->started_at) / (double) G_USEC_PER_SEC;
}

/* `{"event":EVENT,"t":…,"number":…,"peer":…,"call_id":…`: add fields, then
 * event_end (). */
static PlJsonLine *
call_event_begin (Farm       *farm,
                  const char *event,
                  PlLine     *line,
                  PlCall     *call)
{
  PlJsonLine *out = pl_json_line_new (event, now_s (farm));

  pl_json_line_add_string (out, "number", pl_line_get_number (line));
  pl_json_line_add_string (out, "peer", pl_call_get_peer (call));
  pl_json_line_add_string (out, "call_id", pl_call_get_id (call));

  return out;
}

/* Closes the event and writes it as one line. */
static void
event_end (PlJsonLine *out)
{
  g_autofree char *text = pl_json_line_free_to_string (out);

  fputs (text, stdout);
  fputc ('\n', stdout);
  fflush (stdout);
}

static void
on_call_state_changed (PlCall  *call,
                       int      state,
                       int      old_state,
                       gpointer user_data)
{
  Farm *farm = g_object_get_data (G_OBJECT (call), "farm");
  PlJsonLine *out = call_event_begin (farm, "call", user_data, call);

  pl_json_line_add_string (out, "state", pl_call_state_to_string (state));
  if (state == PL_CALL_STATE_ACTIVE) {
    pl_json_line_add_double (out, "setup_ms", pl_call_get_setup_ms (call), 1);
  } else if (state == PL_CALL_STATE_ENDED) {
    pl_json_line_add_string (out, "reason", pl_call_get_reason (call));
    pl_json_line_add_double (out, "duration_ms", MAX (pl_call_get_duration_ms (call), 0), 1);
    pl_json_line_add_double (out, "teardown_ms", pl_call_get_teardown_ms (call), 1);
  }
  event_end (out);
}

static void
on_call_first_audio (PlCall  *call,
                     double   ms,
                     gpointer user_data)
{
  Farm *farm = g_object_get_data (G_OBJECT (call), "farm");
  PlJsonLine *out = call_event_begin (farm, "audio", user_data, call);

  pl_json_line_add_double (out, "first_audio_ms", ms, 1);
  event_end (out);
}

static void
on_call_media (PlCall  *call,
               double   hz,
               double   db,
               gpointer user_data)
{
  Farm *farm = g_object_get_data (G_OBJECT (call), "farm");
  PlJsonLine *out = call_event_begin (farm, "media", user_data, call);

  pl_json_line_add_double (out, "frequency_hz", hz, 1);
  pl_json_line_add_double (out, "level_db", db, 1);
  event_end (out);
}

static void
on_call_stats (PlCall      *call,
               PlCallStats *stats,
               gpointer     user_data)
{
  Farm *farm = g_object_get_data (G_OBJECT (call), "farm");
  PlJsonLine *out = call_event_begin (farm, "stats", user_data, call);

  pl_json_line_add_int (out, "packets_received", MAX (stats->packets_received, 0));
  pl_json_line_add_int (out, "packets_lost", MAX (stats->packets_lost, 0));
  if (stats->rtt_ms >= 0)
    pl_json_line_add_double (out, "rtt_ms", stats->rtt_ms, 1);
  if (stats->jitter_ms >= 0)
    pl_json_line_add_double (out, "jitter_ms", stats->jitter_ms, 1);
  event_end (out);
}

static void
on_line_call_added (PlLine  *line,
                    PlCall  *call,
                    gpointer user_data)
{
  g_object_set_data (G_OBJECT (call), "farm", user_data);
  g_signal_connect_object (call, "state-changed", G_CALLBACK (on_call_state_changed), line, 0);
  g_signal_connect_object (call, "first-audio", G_CALLBACK (on_call_first_audio), line, 0);
  g_signal_connect_object (call, "media", G_CALLBACK (on_call_media), line, 0);
  g_signal_connect_object (call, "stats", G_CALLBACK (on_call_stats), line, 0);
}

static void
register_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  Farm *farm = user_data;
  g_autoptr(GError) error = NULL;

  if (!pl_line_register_finish (PL_LINE (object), result, &error)) {
    fprintf (stderr, "partyline-farm: %s: %s\n", pl_line_get_number (PL_LINE (object)),
             error->message);
    farm->status = 3;
    g_main_loop_quit (farm->loop);
    return;
  }

  if (--farm->registering == 0) {
    PlJsonLine *out = pl_json_line_new ("registered", now_s (farm));

    pl_json_line_add_int (out, "count", farm->lines->len);
    event_end (out);
  }
}

static void
shutdown_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  Farm *farm = user_data;

  pl_line_shutdown_finish (PL_LINE (object), result, NULL);
  if (--farm->shutting_down == 0)
    g_main_loop_quit (farm->loop);
}

static void
quit (Farm *farm)
{
  if (farm->shutting_down > 0)
    return;

  farm->shutting_down = farm->lines->len;
  for (guint i = 0; i < farm->lines->len; i++)
    pl_line_shutdown_async (g_ptr_array_index (farm->lines, i), shutdown_cb, farm);
}

static void read_next_line (Farm *farm);

/* As partyline-cli's `resources`: what the process holds (pipelines summed
 * over the lines), and the longest main-loop stall since the last reset (the
 * probe starts with the first `resources`; `reset` reports, then resets). */
static void
emit_resources (Farm    *farm,
                gboolean reset)
{
  PlResources r;
  PlJsonLine *out;
  guint pipelines = 0;

  pl_loop_probe_start ();
  pl_resources_get (&r);
  if (reset)
    pl_loop_probe_take_max_stall_ms (TRUE);
  for (guint i = 0; i < farm->lines->len; i++)
    pipelines += pl_line_get_pipeline_count (g_ptr_array_index (farm->lines, i));

  out = pl_json_line_new ("resources", now_s (farm));
  pl_json_line_add_int (out, "pipelines", pipelines);
  pl_json_line_add_int (out, "calls", r.calls);
  pl_json_line_add_int (out, "peers", r.peers);
  pl_json_line_add_int (out, "webrtcbins", r.webrtcbins);
  pl_json_line_add_int (out, "nice_agents", r.nice_agents);
  pl_json_line_add_int (out, "threads", r.threads);
  pl_json_line_add_int (out, "fds", r.fds);
  pl_json_line_add_int (out, "rss_kib", r.rss_kib);
  pl_json_line_add_double (out, "max_stall_ms", r.max_stall_ms, 1);
  pl_json_line_add_double (out, "max_busy_ms", r.max_busy_ms, 1);
  event_end (out);
}

static void
settle_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  Farm *farm = user_data;

  pl_line_settle_finish (PL_LINE (object), result, NULL);
  if (--farm->settling == 0 && farm->shutting_down == 0)
    emit_resources (farm, FALSE);
}

static void
read_line_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  Farm *farm = user_data;
  g_autofree char *line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (object),
                                                                     result, NULL, NULL);

  if (line == NULL || g_str_equal (g_strstrip (line), "quit")) {
    quit (farm);
    return;
  }

  if (g_str_equal (line, "resources") || g_str_equal (line, "resources reset")) {
    emit_resources (farm, g_str_equal (line, "resources reset"));
  } else if (g_str_equal (line, "settle")) {
    if (farm->settling++ == 0) {
      farm->settling = farm->lines->len;
      for (guint i = 0; i < farm->lines->len; i++)
        pl_line_settle_async (g_ptr_array_index (farm->lines, i), settle_cb, farm);
    } else {
      farm->settling--;   /* one `settle` at a time: this one is answered with it */
    }
  } else if (g_str_equal (line, "stats")) {
    /* One `stats` event per call, each when webrtcbin answers. */
    for (guint i = 0; i < farm->lines->len; i++) {
      g_autoptr(GPtrArray) calls = pl_line_get_calls (g_ptr_array_index (farm->lines, i));

      for (guint j = 0; j < calls->len; j++)
        pl_call_request_stats (g_ptr_array_index (calls, j));
    }
  } else if (line[0] != '\0') {
    PlJsonLine *out = pl_json_line_new ("error", now_s (farm));

    pl_json_line_add_string (out, "message", "unknown command");
    pl_json_line_add_string (out, "command", line);
    event_end (out);
  }
  read_next_line (farm);
}

static void
read_next_line (Farm *farm)
{
  g_data_input_stream_read_line_async (farm->input, G_PRIORITY_DEFAULT, NULL, read_line_cb, farm);
}

static gboolean
on_signal (gpointer user_data)
{
  quit (user_data);
  return G_SOURCE_CONTINUE;
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *server = NULL;
  g_autofree char *prefix = NULL;
  g_autofree char *source = NULL;
  int count = 0;
  gboolean analyze = FALSE;
  g_auto(GStrv) ice_addresses = NULL;
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PlMediaConfig) media = NULL;
  g_autoptr(GInputStream) stdin_stream = NULL;
  Farm farm = { 0 };
  const GOptionEntry entries[] = {
    { "server", 0, 0, G_OPTION_ARG_STRING, &server, "Signaling server", "URL" },
    { "prefix", 0, 0, G_OPTION_ARG_STRING, &prefix, "Numbers are PREFIX0 … PREFIX(N-1)", "P" },
    { "count", 0, 0, G_OPTION_ARG_INT, &count, "How many lines", "N" },
    { "source", 0, 0, G_OPTION_ARG_STRING, &source, "What every call sends", "SPEC" },
    { "analyze", 0, 0, G_OPTION_ARG_NONE, &analyze, "Report what each call hears", NULL },
    { "ice-address", 0, 0, G_OPTION_ARG_STRING_ARRAY, &ice_addresses, "Host candidates", "IP" },
    { NULL }
  };

  g_log_writer_default_set_use_stderr (TRUE);
  context = g_option_context_new (NULL);
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || server == NULL ||
      prefix == NULL || count < 1 || count > 1000) {
    fprintf (stderr, "partyline-farm: --server, --prefix and --count (1–1000) are needed%s%s\n",
             error ? ": " : "", error ? error->message : "");
    return 2;
  }

  pl_process_raise_fd_limit ();
  if (!pl_media_init (&error)) {
    fprintf (stderr, "partyline-farm: %s\n", error->message);
    return 2;
  }

  media = pl_media_config_new ();
  if (!pl_media_config_set_source (media, source ? source : "tone:660", &error) ||
      !pl_media_config_set_sink (media, "fake", &error) ||
      !pl_media_config_take_ice_addresses (media, g_steal_pointer (&ice_addresses), &error)) {
    fprintf (stderr, "partyline-farm: %s\n", error->message);
    return 2;
  }
  media->analyze = analyze;

  farm.loop = g_main_loop_new (NULL, FALSE);
  farm.lines = g_ptr_array_new_with_free_func (g_object_unref);
  farm.started_at = g_get_monotonic_time ();
  farm.registering = count;

  for (int i = 0; i < count; i++) {
    g_autofree char *number = g_strdup_printf ("%s%d", prefix, i);
    PlLine *line = pl_line_new (server, number, NULL, media);

    pl_line_set_auto_answer (line, 0);
    g_signal_connect (line, "call-added", G_CALLBACK (on_line_call_added), &farm);
    g_ptr_array_add (farm.lines, line);
    pl_line_register_async (line, NULL, register_cb, &farm);
  }

  stdin_stream = g_unix_input_stream_new (STDIN_FILENO, FALSE);
  farm.input = g_data_input_stream_new (stdin_stream);
  read_next_line (&farm);
  g_unix_signal_add (SIGINT, on_signal, &farm);
  g_unix_signal_add (SIGTERM, on_signal, &farm);

  g_main_loop_run (farm.loop);

  g_clear_pointer (&farm.lines, g_ptr_array_unref);
  g_clear_object (&farm.input);
  g_main_loop_unref (farm.loop);

  return farm.status;
}
