/* pl-cli.c — the headless phone: stdin commands in, events out
 *
 * Everything here runs on the one main loop. The CLI only talks to PlLine and
 * PlCall, never to GStreamer or the WebSocket.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "partyline-cli"

#include "config.h"

#include "pl-cli.h"
#include "pl-json-line.h"
#include "pl-line.h"
#include "pl-process.h"
#include "pl-protocol.h"
#include "pl-resources.h"

#include <gio/gio.h>
#include <gio/gunixinputstream.h>
#include <glib-unix.h>

#include <signal.h>
#include <stdio.h>
#include <unistd.h>

typedef struct {
  const PlCliOptions *options;
  GMainLoop          *loop;
  PlLine             *line;
  GDataInputStream   *input;
  GCancellable       *cancellable;
  gint64              started_at;
  int                 exit_status;
  gboolean            quitting;
  gboolean            input_done;
} PlCli;

/* --- events ------------------------------------------------------------- */

static double
seconds_since_start (PlCli *cli)
{
  return (g_get_monotonic_time () - cli->started_at) / (double) G_USEC_PER_SEC;
}

/* An event: a JSON line, or a line for people (see event_end ()). */
static PlJsonLine *
event_begin (PlCli      *cli,
             const char *event)
{
  return pl_json_line_new (event, seconds_since_start (cli));
}

static void
add_string (PlJsonLine *ev,
            const char *name,
            const char *value)
{
  pl_json_line_add_string (ev, name, value ? value : "");
}

/* A measurement, to one decimal. */
static void
add_double (PlJsonLine *ev,
            const char *name,
            double      value)
{
  pl_json_line_add_double (ev, name, value, 1);
}

/* A measurement, or null while unknown (negative). */
static void
add_optional (PlJsonLine *ev,
              const char *name,
              double      value)
{
  if (value < 0)
    pl_json_line_add_null (ev, name);
  else
    add_double (ev, name, value);
}

static void
add_call_fields (PlJsonLine *ev,
                 PlCall     *call)
{
  add_string (ev, "call_id", pl_call_get_id (call));
  add_string (ev, "peer", pl_call_get_peer (call));
}

/* Writes the event: the JSON line, or @human for people. */
static void
event_end (PlCli      *cli,
           PlJsonLine *ev,
           const char *human)
{
  g_autofree char *json = pl_json_line_free_to_string (ev);

  if (cli->options->json)
    printf ("%s\n", json);
  else
    printf ("[%8.3f] %s\n", seconds_since_start (cli), human);
  fflush (stdout);
}

static void
emit_error (PlCli      *cli,
            const char *command,
            const char *message)
{
  PlJsonLine *builder = event_begin (cli, "error");
  g_autofree char *human = g_strdup_printf ("error: %s%s%s%s", message,
                                            command ? " (" : "", command ? command : "",
                                            command ? ")" : "");

  add_string (builder, "message", message);
  if (command != NULL)
    add_string (builder, "command", command);
  event_end (cli, builder, human);
}

static void
emit_call (PlCli  *cli,
           PlCall *call)
{
  PlJsonLine *builder = event_begin (cli, "call");
  PlCallState state = pl_call_get_state (call);
  const char *state_name = pl_call_state_to_string (state);
  g_autoptr(GString) human = g_string_new (NULL);

  add_call_fields (builder, call);
  add_string (builder, "direction", pl_call_direction_to_string (pl_call_get_direction (call)));
  add_string (builder, "state", state_name);
  g_string_printf (human, "call %s %s %s", pl_call_get_peer (call),
                   pl_call_direction_to_string (pl_call_get_direction (call)), state_name);

  if (state == PL_CALL_STATE_ACTIVE) {
    add_double (builder, "setup_ms", pl_call_get_setup_ms (call));
    g_string_append_printf (human, " (set up in %.1f ms)", pl_call_get_setup_ms (call));
  } else if (state == PL_CALL_STATE_ENDED) {
    add_string (builder, "reason", pl_call_get_reason (call));
    add_double (builder, "duration_ms", MAX (pl_call_get_duration_ms (call), 0));
    add_double (builder, "teardown_ms", pl_call_get_teardown_ms (call));
    g_string_append_printf (human, " (%s, lasted %.0f ms, torn down in %.1f ms)",
                            pl_call_get_reason (call), MAX (pl_call_get_duration_ms (call), 0),
                            pl_call_get_teardown_ms (call));
    /* Why it failed on our side (docs/cli.md, "Events (`--json`)": `ended`'s `message`). */
    if (pl_call_get_error (call) != NULL) {
      add_string (builder, "message", pl_call_get_error (call)->message);
      g_string_append_printf (human, ": %s", pl_call_get_error (call)->message);
    }
  }
  if (pl_call_get_muted (call)) {
    pl_json_line_add_bool (builder, "muted", TRUE);
    g_string_append (human, " [muted]");
  }

  event_end (cli, builder, human->str);
}

/* --- call signals ------------------------------------------------------- */

static void
on_call_state_changed (PlCall  *call,
                       int      state,
                       int      old_state,
                       gpointer user_data)
{
  emit_call (user_data, call);
}

static void
on_call_first_audio (PlCall  *call,
                     double   first_audio_ms,
                     gpointer user_data)
{
  PlCli *cli = user_data;
  PlJsonLine *builder = event_begin (cli, "audio");
  g_autofree char *human = g_strdup_printf ("audio from %s after %.1f ms", pl_call_get_peer (call),
                                            first_audio_ms);

  add_call_fields (builder, call);
  add_double (builder, "first_audio_ms", first_audio_ms);
  event_end (cli, builder, human);
}

static void
on_call_media (PlCall  *call,
               double   frequency_hz,
               double   level_db,
               gpointer user_data)
{
  PlCli *cli = user_data;
  PlJsonLine *builder = event_begin (cli, "media");
  g_autofree char *human = g_strdup_printf ("hearing %s: %.1f Hz at %.1f dB",
                                            pl_call_get_peer (call), frequency_hz, level_db);

  add_call_fields (builder, call);
  add_double (builder, "frequency_hz", frequency_hz);
  add_double (builder, "level_db", level_db);
  event_end (cli, builder, human);
}

static void
on_call_stats (PlCall      *call,
               PlCallStats *stats,
               gpointer     user_data)
{
  PlCli *cli = user_data;
  PlJsonLine *builder = event_begin (cli, "stats");
  g_autofree char *human = g_strdup_printf ("stats %s: rtt %.1f ms, %" G_GINT64_FORMAT
                                            " packets received, %" G_GINT64_FORMAT
                                            " lost, jitter %.1f ms", pl_call_get_peer (call),
                                            stats->rtt_ms, stats->packets_received,
                                            stats->packets_lost, stats->jitter_ms);

  add_call_fields (builder, call);
  add_optional (builder, "rtt_ms", stats->rtt_ms);
  pl_json_line_add_int (builder, "packets_received", MAX (stats->packets_received, 0));
  pl_json_line_add_int (builder, "packets_lost", MAX (stats->packets_lost, 0));
  add_optional (builder, "jitter_ms", stats->jitter_ms);
  event_end (cli, builder, human);
}

static void
on_line_call_added (PlLine  *line,
                    PlCall  *call,
                    gpointer user_data)
{
  PlCli *cli = user_data;

  g_signal_connect (call, "state-changed", G_CALLBACK (on_call_state_changed), cli);
  g_signal_connect (call, "first-audio", G_CALLBACK (on_call_first_audio), cli);
  g_signal_connect (call, "media", G_CALLBACK (on_call_media), cli);
  g_signal_connect (call, "stats", G_CALLBACK (on_call_stats), cli);

  /* An outgoing call is announced once its offer is sent ("dialing"). */
  if (pl_call_get_state (call) != PL_CALL_STATE_NEW)
    emit_call (cli, call);
}

static void
on_line_call_removed (PlLine  *line,
                      PlCall  *call,
                      gpointer user_data)
{
  g_signal_handlers_disconnect_by_data (call, user_data);
}

static void
on_line_unregistered (PlLine     *line,
                      const char *reason,
                      gpointer    user_data)
{
  PlCli *cli = user_data;
  PlJsonLine *builder = event_begin (cli, "unregistered");
  g_autofree char *human = g_strdup_printf ("unregistered: %s", reason);

  add_string (builder, "reason", reason);
  event_end (cli, builder, human);
}

/* --- commands ----------------------------------------------------------- */

static void read_next_line (PlCli *cli);

static void
shutdown_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  PlCli *cli = user_data;

  pl_line_shutdown_finish (PL_LINE (object), result, NULL);
  g_main_loop_quit (cli->loop);
}

static void
quit (PlCli *cli)
{
  if (cli->quitting)
    return;

  cli->quitting = TRUE;
  g_cancellable_cancel (cli->cancellable);
  pl_line_shutdown_async (cli->line, shutdown_cb, cli);
}

typedef struct {
  PlCli  *cli;
  gint64  started_at;
} GroupHangUp;

static void
hang_up_all_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autofree GroupHangUp *group = user_data;
  PlCli *cli = group->cli;
  PlJsonLine *builder;
  g_autofree char *human = NULL;
  guint count = 0;
  double ms;

  pl_line_hang_up_group_finish (PL_LINE (object), result, &count, NULL);
  ms = (g_get_monotonic_time () - group->started_at) / 1000.0;

  builder = event_begin (cli, "all-ended");
  pl_json_line_add_int (builder, "count", count);
  add_double (builder, "ms", ms);
  human = g_strdup_printf ("all %u calls ended in %.1f ms", count, ms);
  event_end (cli, builder, human);
}

/* Looks up the live call with each number; reports the first unknown one. */
static GPtrArray *
lookup_calls (PlCli      *cli,
              const char *command,
              char      **numbers)
{
  g_autoptr(GPtrArray) calls = g_ptr_array_new ();

  if (numbers[0] == NULL) {
    emit_error (cli, command, "a number is missing");
    return NULL;
  }

  for (guint i = 0; numbers[i]; i++) {
    PlCall *call = pl_line_lookup_call (cli->line, numbers[i]);
    g_autofree char *message = NULL;

    if (call == NULL) {
      message = g_strdup_printf ("no call with %s", numbers[i]);
      emit_error (cli, command, message);
      return NULL;
    }
    g_ptr_array_add (calls, call);
  }

  return g_steal_pointer (&calls);
}

static void
command_dial (PlCli      *cli,
              const char *command,
              char      **numbers,
              gint64      now)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  if (numbers[0] == NULL) {
    emit_error (cli, command, "a number is missing");
    return;
  }

  /* A bad argument changes nothing: check every number before dialing any. */
  for (guint i = 0; numbers[i]; i++) {
    g_autofree char *message = NULL;

    if (!pl_number_is_valid (numbers[i]))
      message = g_strdup_printf ("'%s' is not a valid number", numbers[i]);
    else if (g_str_equal (numbers[i], pl_line_get_number (cli->line)))
      message = g_strdup ("cannot call yourself");
    else if (!g_hash_table_add (seen, numbers[i]))
      message = g_strdup_printf ("%s is given twice", numbers[i]);
    else if (pl_line_lookup_call (cli->line, numbers[i]) != NULL)
      message = g_strdup_printf ("already in a call with %s", numbers[i]);
    else if (!pl_line_is_registered (cli->line))
      message = g_strdup ("not registered with the server");

    if (message != NULL) {
      emit_error (cli, command, message);
      return;
    }
  }

  for (guint i = 0; numbers[i]; i++) {
    g_autoptr(GError) error = NULL;

    if (pl_line_dial (cli->line, numbers[i], now, &error) == NULL)
      emit_error (cli, command, error->message);
  }
}

static void
command_set_muted (PlCli      *cli,
                   const char *command,
                   char      **args,
                   gboolean    muted)
{
  g_autoptr(GPtrArray) calls = NULL;

  if (args[0] != NULL && g_str_equal (args[0], "all") && args[1] == NULL)
    calls = pl_line_get_calls (cli->line);
  else
    calls = lookup_calls (cli, command, args);
  if (calls == NULL)
    return;

  /* No event: `call` events are state changes; `list` shows who is muted. */
  for (guint i = 0; i < calls->len; i++)
    pl_call_set_muted (g_ptr_array_index (calls, i), muted);
}

/* An extension for tests and benchmarks: what the process holds now, and the
 * longest main-loop stall since the previous `resources reset` (the probe
 * starts with the first `resources`). */
static void
command_resources (PlCli   *cli,
                   gboolean reset)
{
  PlJsonLine *builder = event_begin (cli, "resources");
  g_autofree char *human = NULL;
  PlResources resources;

  pl_loop_probe_start ();
  pl_resources_get (&resources);
  if (reset)
    pl_loop_probe_take_max_stall_ms (TRUE);

  pl_json_line_add_int (builder, "pipelines", pl_line_get_pipeline_count (cli->line));
  pl_json_line_add_int (builder, "calls", resources.calls);
  pl_json_line_add_int (builder, "peers", resources.peers);
  pl_json_line_add_int (builder, "webrtcbins", resources.webrtcbins);
  pl_json_line_add_int (builder, "nice_agents", resources.nice_agents);
  pl_json_line_add_int (builder, "threads", resources.threads);
  pl_json_line_add_int (builder, "fds", resources.fds);
  pl_json_line_add_int (builder, "rss_kib", resources.rss_kib);
  add_double (builder, "max_stall_ms", resources.max_stall_ms);
  add_double (builder, "max_busy_ms", resources.max_busy_ms);
  human = g_strdup_printf ("resources: %u pipelines, %u calls, %u webrtcbins, %u nice agents, "
                           "%u threads, %u fds, %" G_GUINT64_FORMAT " KiB, longest stall "
                           "%.1f ms (%.1f ms busy)", pl_line_get_pipeline_count (cli->line),
                           resources.calls, resources.webrtcbins, resources.nice_agents,
                           resources.threads, resources.fds, resources.rss_kib,
                           resources.max_stall_ms, resources.max_busy_ms);
  event_end (cli, builder, human);
}

/* `settle`: the `resources` event once no pipeline is left, lingering ones included. */
static void
settle_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  PlCli *cli = user_data;

  pl_line_settle_finish (PL_LINE (object), result, NULL);
  if (!cli->quitting)
    command_resources (cli, FALSE);
}

static PlCall *
lookup_one (PlCli      *cli,
            const char *command,
            char      **args)
{
  g_autoptr(GPtrArray) calls = NULL;

  if (args[0] != NULL && args[1] != NULL) {
    emit_error (cli, command, "one number expected");
    return NULL;
  }
  calls = lookup_calls (cli, command, args);

  return calls ? g_ptr_array_index (calls, 0) : NULL;
}

static void
run_command (PlCli      *cli,
             const char *line)
{
  g_auto(GStrv) words = g_strsplit_set (line, " \t", -1);
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  gint64 now = g_get_monotonic_time ();
  const char *name;
  char **rest;
  PlCall *call;

  for (guint i = 0; words[i]; i++)
    if (*words[i] != '\0')
      g_ptr_array_add (args, words[i]);
  if (args->len == 0)
    return;
  g_ptr_array_add (args, NULL);
  name = g_ptr_array_index (args, 0);
  rest = (char **) args->pdata + 1;

  if (cli->quitting) {
    emit_error (cli, line, "quitting");
    return;
  }

  if (g_str_equal (name, "dial")) {
    command_dial (cli, line, rest, now);
  } else if (g_str_equal (name, "answer")) {
    g_autoptr(GError) error = NULL;

    if ((call = lookup_one (cli, line, rest)) != NULL && !pl_call_answer (call, &error))
      emit_error (cli, line, error->message);
  } else if (g_str_equal (name, "reject")) {
    if ((call = lookup_one (cli, line, rest)) == NULL)
      return;
    if (pl_call_get_state (call) != PL_CALL_STATE_INCOMING)
      emit_error (cli, line, "the call is not waiting for an answer");
    else
      pl_call_hang_up (call, PL_HANGUP_REJECTED);
  } else if (g_str_equal (name, "hangup")) {
    g_autoptr(GPtrArray) calls = lookup_calls (cli, line, rest);

    for (guint i = 0; calls && i < calls->len; i++)
      pl_call_hang_up (g_ptr_array_index (calls, i), PL_HANGUP_NORMAL);
  } else if (g_str_equal (name, "hangup-all") && rest[0] == NULL) {
    GroupHangUp *group = g_new0 (GroupHangUp, 1);

    group->cli = cli;
    group->started_at = now;
    pl_line_hang_up_group_async (cli->line, NULL, PL_HANGUP_NORMAL, hang_up_all_cb, group);
  } else if (g_str_equal (name, "mute")) {
    command_set_muted (cli, line, rest, TRUE);
  } else if (g_str_equal (name, "unmute")) {
    command_set_muted (cli, line, rest, FALSE);
  } else if (g_str_equal (name, "list") && rest[0] == NULL) {
    g_autoptr(GPtrArray) calls = pl_line_get_calls (cli->line);

    for (guint i = 0; i < calls->len; i++)
      emit_call (cli, g_ptr_array_index (calls, i));
  } else if (g_str_equal (name, "stats")) {
    if ((call = lookup_one (cli, line, rest)) != NULL)
      pl_call_request_stats (call);
  } else if (g_str_equal (name, "dump")) {
    g_autoptr(GError) error = NULL;
    g_autofree char *path = NULL;

    if ((call = lookup_one (cli, line, rest)) == NULL)
      return;
    path = pl_call_dump_dot (call, &error);
    if (path == NULL) {
      emit_error (cli, line, error->message);
    } else {
      PlJsonLine *builder = event_begin (cli, "dump");
      g_autofree char *human = g_strdup_printf ("pipeline of %s written to %s",
                                                pl_call_get_peer (call), path);

      add_call_fields (builder, call);
      add_string (builder, "path", path);
      event_end (cli, builder, human);
    }
  } else if (g_str_equal (name, "resources") &&
             (rest[0] == NULL || (g_str_equal (rest[0], "reset") && rest[1] == NULL))) {
    command_resources (cli, rest[0] != NULL);
  } else if (g_str_equal (name, "settle") && rest[0] == NULL) {
    pl_line_settle_async (cli->line, settle_cb, cli);
  } else if (g_str_equal (name, "quit") && rest[0] == NULL) {
    quit (cli);
  } else {
    emit_error (cli, line, "unknown command or wrong arguments");
  }
}

static void
read_line_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  PlCli *cli = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;

  line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (object), result, NULL,
                                                    &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  if (line == NULL) {
    if (error != NULL)
      emit_error (cli, NULL, error->message);
    cli->input_done = TRUE;
    /* End of input is `quit`, unless the phone was asked to keep answering or dialing. */
    if (cli->options->auto_answer_ms < 0 && cli->options->dial == NULL)
      quit (cli);
    return;
  }

  g_strstrip (line);
  run_command (cli, line);
  if (!cli->quitting)
    read_next_line (cli);
}

static void
read_next_line (PlCli *cli)
{
  g_data_input_stream_read_line_async (cli->input, G_PRIORITY_DEFAULT, cli->cancellable,
                                       read_line_cb, cli);
}

static gboolean
on_signal (gpointer user_data)
{
  quit (user_data);

  return G_SOURCE_CONTINUE;
}

static void
register_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  PlCli *cli = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *human = NULL;
  PlJsonLine *builder;

  if (!pl_line_register_finish (PL_LINE (object), result, &error)) {
    /* Quitting before registration is done is not a failure. */
    if (cli->quitting)
      return;
    fprintf (stderr, "partyline-cli: %s\n", error->message);
    cli->exit_status = PL_CLI_EXIT_SERVER;
    g_main_loop_quit (cli->loop);
    return;
  }

  builder = event_begin (cli, "registered");
  add_string (builder, "number", pl_line_get_number (cli->line));
  add_string (builder, "server", pl_line_get_server_url (cli->line));
  human = g_strdup_printf ("registered as %s on %s", pl_line_get_number (cli->line),
                           pl_line_get_server_url (cli->line));
  event_end (cli, builder, human);

  if (cli->options->dial != NULL)
    command_dial (cli, "--dial", cli->options->dial, g_get_monotonic_time ());

  read_next_line (cli);
}

int
pl_cli_run (const PlCliOptions *options)
{
  g_autoptr(GInputStream) stdin_stream = NULL;
  PlCli cli = { 0 };
  guint sigint_id, sigterm_id;

  cli.options = options;
  cli.started_at = g_get_monotonic_time ();
  cli.loop = g_main_loop_new (NULL, FALSE);
  cli.cancellable = g_cancellable_new ();
  cli.exit_status = PL_CLI_EXIT_OK;

  cli.line = pl_line_new (options->server_url, options->number, options->token, options->media);
  pl_line_set_auto_answer (cli.line, options->auto_answer_ms);
  pl_line_set_ring_timeout (cli.line, options->ring_timeout_s);
  pl_line_set_register_timeout (cli.line, options->register_timeout_s);
  pl_line_set_max_calls (cli.line, options->max_calls);
  g_signal_connect (cli.line, "call-added", G_CALLBACK (on_line_call_added), &cli);
  g_signal_connect (cli.line, "call-removed", G_CALLBACK (on_line_call_removed), &cli);
  g_signal_connect (cli.line, "unregistered", G_CALLBACK (on_line_unregistered), &cli);

  stdin_stream = g_unix_input_stream_new (STDIN_FILENO, FALSE);
  cli.input = g_data_input_stream_new (stdin_stream);

  sigint_id = g_unix_signal_add (SIGINT, on_signal, &cli);
  sigterm_id = g_unix_signal_add (SIGTERM, on_signal, &cli);

  pl_line_register_async (cli.line, cli.cancellable, register_cb, &cli);
  g_main_loop_run (cli.loop);

  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);
  g_cancellable_cancel (cli.cancellable);
  g_signal_handlers_disconnect_by_data (cli.line, &cli);
  g_clear_object (&cli.line);
  g_clear_object (&cli.input);
  g_clear_object (&cli.cancellable);
  g_main_loop_unref (cli.loop);

  return cli.exit_status;
}
