/* main.c — partyline-server, the signaling server (docs/cli.md, "partyline-server")
 *
 * Copyright 2026 The Partyline authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "partyline-server"

#include "config.h"

#include "pl-process.h"
#include "pl-server.h"

#include <gio/gio.h>
#include <glib-unix.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_USAGE   2
#define EXIT_LISTEN  3

#define DEFAULT_LISTEN "127.0.0.1:8443"

/* After a signal the server closes every socket and waits for the close
 * handshakes; a peer that never answers must not keep it alive longer. */
#define SHUTDOWN_TIMEOUT_SECONDS 2

typedef struct {
  GMainLoop *loop;
  PlServer  *server;
  guint      shutdown_timeout_id;
  gboolean   stopping;
} App;

static void
usage_error (const char *format,
             ...) G_GNUC_PRINTF (1, 2);

static void
usage_error (const char *format,
             ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  fprintf (stderr, "partyline-server: %s (see --help)\n", message);
}

/* "ADDR:PORT" or "[IPV6]:PORT", ADDR an IP literal. */
static gboolean
parse_listen (const char *spec,
              char      **out_address,
              guint16    *out_port,
              GError    **error)
{
  g_autofree char *host = NULL;
  g_autoptr(GInetAddress) inet = NULL;
  const char *port_text;
  guint64 port;

  if (spec[0] == '[') {
    const char *end = strchr (spec, ']');

    if (end == NULL || end[1] != ':') {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--listen %s: expected [IPV6]:PORT", spec);
      return FALSE;
    }
    host = g_strndup (spec + 1, end - spec - 1);
    port_text = end + 2;
  } else {
    const char *colon = strrchr (spec, ':');

    if (colon == NULL) {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--listen %s: expected ADDR:PORT", spec);
      return FALSE;
    }
    host = g_strndup (spec, colon - spec);
    port_text = colon + 1;
    if (strchr (host, ':') != NULL) {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--listen %s: write an IPv6 address in brackets, as in [::1]:8443", spec);
      return FALSE;
    }
  }

  inet = g_inet_address_new_from_string (host);
  if (inet == NULL || (g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV6 && spec[0] != '[')) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                 "--listen %s: '%s' is not an IP address", spec, host);
    return FALSE;
  }

  if (!g_ascii_string_to_unsigned (port_text, 10, 0, G_MAXUINT16, &port, NULL)) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                 "--listen %s: '%s' is not a port (0-65535)", spec, port_text);
    return FALSE;
  }

  *out_address = g_inet_address_to_string (inet);
  *out_port = (guint16) port;

  return TRUE;
}

static gboolean
parse_count (const char *option,
             const char *text,
             guint       min,
             guint      *out,
             GError    **error)
{
  guint64 value;

  if (!g_ascii_string_to_unsigned (text, 10, min, G_MAXUINT, &value, NULL)) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                 "%s %s: expected a whole number from %u", option, text, min);
    return FALSE;
  }

  *out = (guint) value;

  return TRUE;
}

/* The server's bounds on what a client can make it hold (docs/SECURITY.md):
 * each option sets the PlServer property of the same name. */
static const struct {
  const char *option;
  const char *property;
  guint       min;
  const char *help;
} limits[] = {
  { "--max-message-size", "max-message-size", 1,
    "Largest message in bytes, one frame or reassembled (default 65536)" },
  { "--max-send-queue", "max-send-queue", 1,
    "Bytes that may wait for a phone before it is dropped as not reading (default 1048576)" },
  { "--handshake-timeout", "handshake-timeout", 0,
    "Seconds from connecting to the end of the WebSocket handshake, 0 for none (default 10)" },
  { "--register-timeout", "register-timeout", 0,
    "Seconds from connecting to a registration, 0 for none (default 10)" },
  { "--max-connections", "max-connections", 0,
    "Most connections at once, 0 for no limit (default 4096)" },
  { "--max-connections-per-address", "max-connections-per-address", 0,
    "Most connections at once from one IP address, 0 for no limit (default 256)" },
  { "--listen-backlog", "listen-backlog", 1,
    "Connections the kernel may queue before the server accepts them (default 1024)" },
};

typedef char *LimitTexts[G_N_ELEMENTS (limits)];

static void
limit_texts_clear (LimitTexts *texts)
{
  for (guint i = 0; i < G_N_ELEMENTS (*texts); i++)
    g_free ((*texts)[i]);
}

static void
on_server_notify_n_connections (PlServer   *server,
                                GParamSpec *pspec,
                                gpointer    user_data)
{
  App *app = user_data;

  if (pl_server_get_n_connections (server) == 0)
    g_main_loop_quit (app->loop);
}

static gboolean
on_shutdown_timeout (gpointer user_data)
{
  App *app = user_data;

  app->shutdown_timeout_id = 0;
  g_message ("%u connections still closing; exiting anyway",
             pl_server_get_n_connections (app->server));
  g_main_loop_quit (app->loop);

  return G_SOURCE_REMOVE;
}

static gboolean
on_unix_signal (gpointer user_data)
{
  App *app = user_data;

  if (app->stopping) {
    /* A second signal: do not wait for the close handshakes. */
    g_main_loop_quit (app->loop);
    return G_SOURCE_CONTINUE;
  }

  app->stopping = TRUE;
  pl_server_shutdown (app->server);

  if (pl_server_get_n_connections (app->server) == 0) {
    g_main_loop_quit (app->loop);
    return G_SOURCE_CONTINUE;
  }

  g_signal_connect (app->server, "notify::n-connections",
                    G_CALLBACK (on_server_notify_n_connections), app);
  app->shutdown_timeout_id = g_timeout_add_seconds (SHUTDOWN_TIMEOUT_SECONDS,
                                                    on_shutdown_timeout, app);

  return G_SOURCE_CONTINUE;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *listen_spec = NULL;
  g_autofree char *token = NULL;
  g_autofree char *rate_limit_text = NULL;
  g_autofree char *rate_burst_text = NULL;
  g_auto(GStrv) origins = NULL;
  /* Not g_autofree: on an array that frees only the first element. */
  LimitTexts limit_texts __attribute__ ((cleanup (limit_texts_clear))) = { NULL };
  guint limit_values[G_N_ELEMENTS (limits)];
  g_autofree char *address = NULL;
  gboolean version = FALSE;
  guint rate_limit = PL_SERVER_DEFAULT_RATE_LIMIT;
  guint rate_burst = PL_SERVER_DEFAULT_RATE_BURST;
  guint16 port = 0;
  guint sigint_id;
  guint sigterm_id;
  App app = { 0 };
  const GOptionEntry entries[] = {
    { "listen", 'l', 0, G_OPTION_ARG_STRING, &listen_spec,
      "Listen on ADDR:PORT, or [IPV6]:PORT (default " DEFAULT_LISTEN "; port 0 picks one)",
      "ADDR:PORT" },
    { "token", 't', 0, G_OPTION_ARG_STRING, &token,
      "Require this token to register (default: none)", "T" },
    { "rate-limit", 0, 0, G_OPTION_ARG_STRING, &rate_limit_text,
      "Messages a second each connection may send, 0 for no limit (default 200)", "N" },
    { "rate-burst", 0, 0, G_OPTION_ARG_STRING, &rate_burst_text,
      "Messages a connection may send at once (default 400)", "N" },
    { "allow-origin", 0, 0, G_OPTION_ARG_STRING_ARRAY, &origins,
      "Accept browser connections only from this Origin; repeatable (default: any)", "ORIGIN" },
#define LIMIT_ENTRY(i) \
    { limits[i].option + 2, 0, 0, G_OPTION_ARG_STRING, &limit_texts[i], limits[i].help, "N" }
    LIMIT_ENTRY (0), LIMIT_ENTRY (1), LIMIT_ENTRY (2), LIMIT_ENTRY (3),
    LIMIT_ENTRY (4), LIMIT_ENTRY (5), LIMIT_ENTRY (6),
#undef LIMIT_ENTRY
    { "version", 0, 0, G_OPTION_ARG_NONE, &version,
      "Print the version and exit", NULL },
    G_OPTION_ENTRY_NULL
  };

  g_set_prgname ("partyline-server");

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context,
                                "The Partyline signaling server. It serves the protocol at /ws.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error)) {
    usage_error ("%s", error->message);
    return EXIT_USAGE;
  }

  if (version) {
    printf ("partyline-server %s\n", PACKAGE_VERSION);
    return EXIT_SUCCESS;
  }

  if (argc > 1) {
    usage_error ("unexpected argument '%s'", argv[1]);
    return EXIT_USAGE;
  }

  if (!parse_listen (listen_spec != NULL ? listen_spec : DEFAULT_LISTEN, &address, &port, &error) ||
      (rate_limit_text != NULL &&
       !parse_count ("--rate-limit", rate_limit_text, 0, &rate_limit, &error)) ||
      (rate_burst_text != NULL &&
       !parse_count ("--rate-burst", rate_burst_text, 1, &rate_burst, &error))) {
    usage_error ("%s", error->message);
    return EXIT_USAGE;
  }

  if (origins != NULL) {
    for (guint i = 0; origins[i] != NULL; i++) {
      if (origins[i][0] == '\0') {
        usage_error ("--allow-origin needs a value, such as https://phone.example");
        return EXIT_USAGE;
      }
    }
  }

  for (guint i = 0; i < G_N_ELEMENTS (limits); i++) {
    if (limit_texts[i] != NULL &&
        !parse_count (limits[i].option, limit_texts[i], limits[i].min, &limit_values[i], &error)) {
      usage_error ("%s", error->message);
      return EXIT_USAGE;
    }
  }

  pl_process_raise_fd_limit ();

  app.server = pl_server_new ();
  for (guint i = 0; i < G_N_ELEMENTS (limits); i++) {
    if (limit_texts[i] != NULL)
      g_object_set (app.server, limits[i].property, limit_values[i], NULL);
  }
  pl_server_set_token (app.server, token);
  pl_server_set_rate_limit (app.server, rate_limit);
  pl_server_set_rate_burst (app.server, rate_burst);
  pl_server_set_allowed_origins (app.server, (const char * const *) origins);

  if (!pl_server_listen (app.server, address, port, &error)) {
    fprintf (stderr, "partyline-server: cannot listen on %s: %s\n",
             listen_spec != NULL ? listen_spec : DEFAULT_LISTEN, error->message);
    g_clear_object (&app.server);
    return EXIT_LISTEN;
  }

  if (strchr (address, ':') != NULL)
    fprintf (stderr, "listening on ws://[%s]:%u/ws\n", address, pl_server_get_port (app.server));
  else
    fprintf (stderr, "listening on ws://%s:%u/ws\n", address, pl_server_get_port (app.server));
  fflush (stderr);

  app.loop = g_main_loop_new (NULL, FALSE);
  sigint_id = g_unix_signal_add (SIGINT, on_unix_signal, &app);
  sigterm_id = g_unix_signal_add (SIGTERM, on_unix_signal, &app);

  g_main_loop_run (app.loop);

  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);
  g_clear_handle_id (&app.shutdown_timeout_id, g_source_remove);
  g_signal_handlers_disconnect_by_data (app.server, &app);
  g_clear_object (&app.server);
  g_clear_pointer (&app.loop, g_main_loop_unref);

  return EXIT_SUCCESS;
}
