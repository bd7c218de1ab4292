/* main.c — partyline-cli: option parsing
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "partyline-cli"

#include "config.h"

#include "pl-cli.h"
#include "pl-line.h"
#include "pl-media.h"
#include "pl-process.h"
#include "pl-protocol.h"
#include "pl-signaling-client.h"

#include <gio/gio.h>
#include <glib/gi18n.h>

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>

static int auto_answer_ms = -1;

static gboolean
parse_auto_answer (const char *option_name,
                   const char *value,
                   gpointer    data,
                   GError    **error)
{
  guint64 ms = 0;

  if (value != NULL &&
      (!g_ascii_string_to_unsigned (value, 10, 0, 3600 * 1000, &ms, NULL))) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                 "--auto-answer takes milliseconds (0 to 3600000), not '%s'", value);
    return FALSE;
  }
  auto_answer_ms = ms;

  return TRUE;
}

/* A timeout option: 0 (never) to a day. */
static gboolean
check_seconds (const char *option,
               int         seconds)
{
  if (seconds >= 0 && seconds <= 24 * 3600)
    return TRUE;

  fprintf (stderr, "partyline-cli: %s takes 0 to 86400 seconds\n", option);
  return FALSE;
}

static gboolean
check_ws_url (const char *url,
              GError    **error)
{
  g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);

  if (uri == NULL ||
      (g_strcmp0 (g_uri_get_scheme (uri), "ws") != 0 &&
       g_strcmp0 (g_uri_get_scheme (uri), "wss") != 0) ||
      g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0') {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                 "invalid server URL '%s' (expected ws://HOST:PORT/PATH or wss://…)", url);
    return FALSE;
  }

  return TRUE;
}

/* @credentials: a user and a password are required (TURN). */
static gboolean
check_ice_uris (GStrv        uris,
                const char  *option,
                const char **schemes,
                gboolean     credentials,
                GError     **error)
{
  for (guint i = 0; uris && uris[i]; i++) {
    g_autoptr(GUri) uri = g_uri_parse (uris[i], G_URI_FLAGS_NONE, NULL);
    gboolean known = FALSE;

    for (guint s = 0; uri && schemes[s]; s++)
      known |= g_strcmp0 (g_uri_get_scheme (uri), schemes[s]) == 0;

    if (!known || g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0') {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "invalid %s URI '%s'", option, uris[i]);
      return FALSE;
    }
    if (credentials && !pl_media_turn_uri_has_credentials (uri)) {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "%s URI '%s' has no user and password (expected %s://USER:PASSWORD@HOST:PORT)",
                   option, uris[i], g_uri_get_scheme (uri));
      return FALSE;
    }
  }

  return TRUE;
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *server = NULL;
  g_autofree char *number = NULL;
  g_autofree char *token = NULL;
  g_autofree char *source = NULL;
  g_autofree char *sink = NULL;
  g_autofree char *dial = NULL;
  g_auto(GStrv) stun = NULL;
  g_auto(GStrv) turn = NULL;
  g_auto(GStrv) ice_addresses = NULL;
  int ring_timeout_s = PL_LINE_DEFAULT_RING_TIMEOUT_S;
  int register_timeout_s = PL_SIGNALING_DEFAULT_REGISTER_TIMEOUT_S;
  int max_calls = PL_LINE_DEFAULT_MAX_CALLS;
  int max_pending_candidates = PL_MEDIA_DEFAULT_MAX_PENDING_CANDIDATES;
  int max_remote_candidates = PL_MEDIA_DEFAULT_MAX_REMOTE_CANDIDATES;
  int max_candidate_length = PL_MEDIA_DEFAULT_MAX_CANDIDATE_LENGTH;
  gboolean analyze = FALSE;
  gboolean json = FALSE;
  gboolean version = FALSE;
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PlMediaConfig) media = NULL;
  g_auto(GStrv) dial_numbers = NULL;
  PlCliOptions options = { 0 };
  const GOptionEntry entries[] = {
    { "server", 0, 0, G_OPTION_ARG_STRING, &server,
      "Signaling server (default ws://127.0.0.1:8443/ws)", "URL" },
    { "number", 0, 0, G_OPTION_ARG_STRING, &number, "The number this phone registers", "N" },
    { "token", 0, 0, G_OPTION_ARG_STRING, &token, "Registration token", "T" },
    { "auto-answer", 0, G_OPTION_FLAG_OPTIONAL_ARG, G_OPTION_ARG_CALLBACK, parse_auto_answer,
      "Answer every incoming call after MS milliseconds (0 when omitted)", "MS" },
    { "source", 0, 0, G_OPTION_ARG_STRING, &source,
      "What each call sends: tone:FREQ, silence, file:PATH, auto or device:NAME", "SPEC" },
    { "sink", 0, 0, G_OPTION_ARG_STRING, &sink,
      "What happens to what each call receives: auto, fake, record:DIR or device:NAME",
      "SPEC" },
    { "analyze", 0, 0, G_OPTION_ARG_NONE, &analyze,
      "Emit the dominant frequency and level of what each call hears every second", NULL },
    { "stun", 0, 0, G_OPTION_ARG_STRING_ARRAY, &stun, "STUN server (repeatable)", "URI" },
    { "turn", 0, 0, G_OPTION_ARG_STRING_ARRAY, &turn, "TURN server (repeatable)", "URI" },
    { "ice-address", 0, 0, G_OPTION_ARG_STRING_ARRAY, &ice_addresses,
      "Gather host candidates on this local address only (repeatable)", "IP" },
    { "dial", 0, 0, G_OPTION_ARG_STRING, &dial, "Dial these numbers once registered", "N[,N…]" },
    { "ring-timeout", 0, 0, G_OPTION_ARG_INT, &ring_timeout_s,
      "End an outgoing call nobody answers after S seconds (0: never; default 60)", "S" },
    { "register-timeout", 0, 0, G_OPTION_ARG_INT, &register_timeout_s,
      "Give up connecting, or waiting for the answer to register, after S seconds "
      "(0: never; default " G_STRINGIFY (PL_SIGNALING_DEFAULT_REGISTER_TIMEOUT_S) ")", "S" },
    { "max-calls", 0, 0, G_OPTION_ARG_INT, &max_calls,
      "Calls at once; past it incoming calls are refused busy (default "
      G_STRINGIFY (PL_LINE_DEFAULT_MAX_CALLS) ")", "N" },
    { "max-pending-candidates", 0, 0, G_OPTION_ARG_INT, &max_pending_candidates,
      "Per call, remote ICE candidates kept before the remote description is applied "
      "(default " G_STRINGIFY (PL_MEDIA_DEFAULT_MAX_PENDING_CANDIDATES) ")", "N" },
    { "max-remote-candidates", 0, 0, G_OPTION_ARG_INT, &max_remote_candidates,
      "Per call, remote ICE candidates used in all (default "
      G_STRINGIFY (PL_MEDIA_DEFAULT_MAX_REMOTE_CANDIDATES) ")", "N" },
    { "max-candidate-length", 0, 0, G_OPTION_ARG_INT, &max_candidate_length,
      "Longest remote ICE candidate in bytes (default "
      G_STRINGIFY (PL_MEDIA_DEFAULT_MAX_CANDIDATE_LENGTH) ")", "BYTES" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "One JSON object per line on stdout", NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL },
    { NULL }
  };
  static const char *stun_schemes[] = { "stun", NULL };
  static const char *turn_schemes[] = { "turn", "turns", NULL };

  /* Standard output carries events only; every log line goes to stderr. */
  g_log_writer_default_set_use_stderr (TRUE);

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context, "partyline-cli — the headless Partyline phone.\n\n"
                                "Commands on standard input: dial N [N…], answer N, reject N,\n"
                                "hangup N [N…], hangup-all, mute N|all, unmute N|all, list,\n"
                                "stats N, dump N, quit.");
  g_option_context_add_main_entries (context, entries, NULL);

  if (!g_option_context_parse (context, &argc, &argv, &error)) {
    fprintf (stderr, "partyline-cli: %s\n", error->message);
    return PL_CLI_EXIT_USAGE;
  }

  if (version) {
    printf ("partyline-cli %s\n", PACKAGE_VERSION);
    return PL_CLI_EXIT_OK;
  }

  if (argc > 1) {
    fprintf (stderr, "partyline-cli: unexpected argument '%s'\n", argv[1]);
    return PL_CLI_EXIT_USAGE;
  }
  if (number == NULL) {
    fprintf (stderr, "partyline-cli: --number is required\n");
    return PL_CLI_EXIT_USAGE;
  }
  if (!pl_number_is_valid (number)) {
    fprintf (stderr, "partyline-cli: invalid number '%s' (1–32 of 0-9 A-Z a-z _ . + -)\n", number);
    return PL_CLI_EXIT_USAGE;
  }
  if (server == NULL)
    server = g_strdup ("ws://127.0.0.1:8443/ws");
  if (!check_seconds ("--ring-timeout", ring_timeout_s) ||
      !check_seconds ("--register-timeout", register_timeout_s))
    return PL_CLI_EXIT_USAGE;

  if (max_calls < 1) {
    fprintf (stderr, "partyline-cli: --max-calls takes a whole number from 1\n");
    return PL_CLI_EXIT_USAGE;
  }
  if (max_pending_candidates < 1 || max_remote_candidates < 1 || max_candidate_length < 1) {
    fprintf (stderr, "partyline-cli: --max-pending-candidates, --max-remote-candidates and "
             "--max-candidate-length take a whole number from 1\n");
    return PL_CLI_EXIT_USAGE;
  }

  media = pl_media_config_new ();
  media->max_pending_candidates = max_pending_candidates;
  media->max_remote_candidates = max_remote_candidates;
  media->max_candidate_length = max_candidate_length;
  if (!check_ws_url (server, &error) ||
      !check_ice_uris (stun, "--stun", stun_schemes, FALSE, &error) ||
      !check_ice_uris (turn, "--turn", turn_schemes, TRUE, &error) ||
      !pl_media_config_set_source (media, source ? source : "auto", &error) ||
      !pl_media_config_set_sink (media, sink ? sink : "auto", &error)) {
    fprintf (stderr, "partyline-cli: %s\n", error->message);
    return PL_CLI_EXIT_USAGE;
  }

  if (!pl_media_config_take_ice_addresses (media, g_steal_pointer (&ice_addresses), &error)) {
    fprintf (stderr, "partyline-cli: %s\n", error->message);
    return PL_CLI_EXIT_USAGE;
  }

  if (dial != NULL) {
    dial_numbers = g_strsplit (dial, ",", -1);
    for (guint i = 0; dial_numbers[i]; i++) {
      g_strstrip (dial_numbers[i]);
      if (!pl_number_is_valid (dial_numbers[i]) || g_str_equal (dial_numbers[i], number)) {
        fprintf (stderr, "partyline-cli: --dial: invalid number '%s'\n", dial_numbers[i]);
        return PL_CLI_EXIT_USAGE;
      }
    }
  }

  media->analyze = analyze;
  media->stun_servers = g_steal_pointer (&stun);
  media->turn_servers = g_steal_pointer (&turn);

  pl_process_raise_fd_limit ();
  if (!pl_media_init (&error)) {
    fprintf (stderr, "partyline-cli: cannot initialize GStreamer: %s\n", error->message);
    return PL_CLI_EXIT_USAGE;
  }

  options.server_url = server;
  options.number = number;
  options.token = token;
  options.auto_answer_ms = auto_answer_ms;
  options.ring_timeout_s = ring_timeout_s;
  options.register_timeout_s = register_timeout_s;
  options.max_calls = max_calls;
  options.dial = dial_numbers;
  options.json = json;
  options.media = media;

  return pl_cli_run (&options);
}
