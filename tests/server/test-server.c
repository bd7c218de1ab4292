/* test-server.c — PlServer and partyline-server against real WebSocket clients
 *
 * Copyright 2026 The Partyline authors
 *
 * An in-process PlServer on 127.0.0.1, port 0, and libsoup clients on the
 * same main context; a raw TCP client where libsoup is too well behaved
 * (a peer that never answers pings, a socket that just drops). The last
 * tests run the real partyline-server ($PARTYLINE_SERVER). Nothing sleeps:
 * every wait is WAIT_UNTIL on an event, under a watchdog.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "pl-protocol.h"
#include "pl-server.h"
#include "pl-signaling-client.h"
#include "pl-ws-decoder.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>

#define WAIT_UNTIL(cond) G_STMT_START while (!(cond)) g_main_context_iteration (NULL, TRUE); G_STMT_END

#define WATCHDOG_SECONDS 30

#define CALL_1 "11111111-1111-4111-8111-111111111111"
#define CALL_2 "22222222-2222-4222-8222-222222222222"
#define CALL_3 "33333333-3333-4333-8333-333333333333"
#define SDP_OFFER "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 96\r\n"
#define SDP_ANSWER "v=0\r\no=- 2 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 96\r\n"

typedef struct _Fixture Fixture;

/* A phone made of a libsoup WebSocket. */
typedef struct {
  Fixture                 *fixture;
  char                    *number;
  SoupMessage             *msg;
  SoupWebsocketConnection *ws;
  GError                  *connect_error;
  gboolean                 connect_done;
  GQueue                   messages;    /* char *, as received */
  gboolean                 closed;
  gushort                  close_code;
} Client;

/* A phone made of a TCP socket and a hand-written WebSocket framing. It
 * reads (and records pings) but never answers them. */
typedef struct {
  GSocketConnection *conn;
  GCancellable      *cancellable;
  GByteArray        *in;
  guint8             buffer[4096];
  gboolean           reading;
  gboolean           handshake_done;
  gboolean           refused;           /* answered with another status than 101 */
  gboolean           eof;
  guint              n_pings;
  GQueue             messages;          /* char * */
  gboolean           got_close;
  gushort            close_code;
} RawClient;

/* A partyline-server process. */
typedef struct {
  GSubprocess      *process;
  GDataInputStream *stderr_lines;
  GCancellable     *cancellable;
  GPtrArray        *lines;
  gboolean          eof;
  gboolean          exited;
  guint16           port;
} ServerProcess;

struct _Fixture {
  PlServer      *server;
  SoupSession   *session;
  GPtrArray     *clients;
  GPtrArray     *raw_clients;
  ServerProcess *process;
  guint          watchdog_id;
};

static gboolean
on_watchdog_timeout (gpointer user_data)
{
  g_error ("test still running after %d s: something never happened", WATCHDOG_SECONDS);

  return G_SOURCE_REMOVE;
}

static gboolean
on_timer_timeout (gpointer user_data)
{
  gboolean *done = user_data;

  *done = TRUE;

  return G_SOURCE_REMOVE;
}

/* libsoup clients */

static void
on_client_message (SoupWebsocketConnection *ws,
                   int                      type,
                   GBytes                  *message,
                   gpointer                 user_data)
{
  Client *client = user_data;
  gsize length;
  const char *data = g_bytes_get_data (message, &length);

  g_queue_push_tail (&client->messages, g_strndup (data, length));
}

static void
on_client_closed (SoupWebsocketConnection *ws,
                  gpointer                 user_data)
{
  Client *client = user_data;

  client->closed = TRUE;
  client->close_code = soup_websocket_connection_get_close_code (ws);
}

static void
websocket_connect_cb (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  Client *client = user_data;

  client->ws = soup_session_websocket_connect_finish (SOUP_SESSION (source), result,
                                                      &client->connect_error);
  if (client->ws != NULL) {
    g_signal_connect (client->ws, "message", G_CALLBACK (on_client_message), client);
    g_signal_connect (client->ws, "closed", G_CALLBACK (on_client_closed), client);
  }
  client->connect_done = TRUE;
}

static Client *
client_try_connect (Fixture    *f,
                    guint16     port,
                    const char *origin)
{
  g_autofree char *url = g_strdup_printf ("ws://127.0.0.1:%u/ws", port);
  Client *client = g_new0 (Client, 1);

  client->fixture = f;
  g_queue_init (&client->messages);
  client->msg = soup_message_new ("GET", url);
  g_ptr_array_add (f->clients, client);

  soup_session_websocket_connect_async (f->session, client->msg, origin, NULL,
                                        G_PRIORITY_DEFAULT, NULL, websocket_connect_cb, client);
  WAIT_UNTIL (client->connect_done);

  return client;
}

static Client *
client_connect (Fixture *f)
{
  Client *client = client_try_connect (f, pl_server_get_port (f->server), NULL);

  g_assert_no_error (client->connect_error);

  return client;
}

static void
client_free (Client *client)
{
  if (client->ws != NULL)
    g_signal_handlers_disconnect_by_data (client->ws, client);
  g_clear_object (&client->ws);
  g_clear_object (&client->msg);
  g_clear_error (&client->connect_error);
  g_queue_clear_full (&client->messages, g_free);
  g_free (client->number);
  g_free (client);
}

static void
client_send (Client     *client,
             const char *text)
{
  g_assert_cmpint (soup_websocket_connection_get_state (client->ws), ==, SOUP_WEBSOCKET_STATE_OPEN);
  soup_websocket_connection_send_text (client->ws, text);
}

static void
client_sendf (Client     *client,
              const char *format,
              ...) G_GNUC_PRINTF (2, 3);

static void
client_sendf (Client     *client,
              const char *format,
              ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);

  client_send (client, text);
}

/* The next message from the server, in order; fails if the socket closes
 * first. */
static char *
client_next (Client *client)
{
  WAIT_UNTIL (!g_queue_is_empty (&client->messages) || client->closed);

  if (g_queue_is_empty (&client->messages))
    g_error ("%s: the connection closed (code %u) while a message was expected",
             client->number, client->close_code);

  return g_queue_pop_head (&client->messages);
}

static JsonObject *
parse_object (const char *text)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));

  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

/* The next message must be of @type and valid for a phone. */
static PlMessage *
client_expect (Client       *client,
               PlMessageType type)
{
  g_autofree char *text = client_next (client);
  g_autoptr(PlMessage) msg = NULL;
  g_autoptr(GError) error = NULL;

  msg = pl_message_parse (text, -1, &error);
  g_assert_no_error (error);
  if (msg->type != type)
    g_error ("%s: expected a '%s' message, got %s", client->number,
             pl_message_type_to_string (type), text);
  if (!pl_message_validate (msg, PL_PROTOCOL_TO_PHONE, &error))
    g_error ("%s: the server sent an invalid message %s: %s", client->number, text, error->message);

  return g_steal_pointer (&msg);
}

/* An `error` with @code; @ref and @call_id must be absent when NULL. */
static void
client_expect_error (Client     *client,
                     const char *code,
                     const char *ref,
                     const char *call_id)
{
  g_autofree char *text = client_next (client);
  g_autoptr(JsonObject) object = parse_object (text);
  g_autoptr(PlMessage) msg = NULL;
  g_autoptr(GError) error = NULL;

  if (g_strcmp0 (json_object_get_string_member_with_default (object, "type", ""), "error") != 0 ||
      g_strcmp0 (json_object_get_string_member_with_default (object, "code", ""), code) != 0)
    g_error ("%s: expected error %s, got %s", client->number, code, text);

  g_assert_cmpstr (json_object_get_string_member_with_default (object, "ref", NULL), ==, ref);
  g_assert_true (json_object_has_member (object, "ref") == (ref != NULL));
  g_assert_cmpstr (json_object_get_string_member_with_default (object, "call_id", NULL), ==, call_id);
  g_assert_true (json_object_has_member (object, "call_id") == (call_id != NULL));

  msg = pl_message_parse (text, -1, &error);
  g_assert_no_error (error);
  pl_message_validate (msg, PL_PROTOCOL_TO_PHONE, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (msg->message, !=, "");
}

static void
client_expect_hangup (Client     *client,
                      const char *call_id,
                      const char *reason)
{
  g_autoptr(PlMessage) msg = client_expect (client, PL_MESSAGE_HANGUP);

  g_assert_cmpstr (msg->call_id, ==, call_id);
  g_assert_cmpstr (msg->reason, ==, reason);
}

static void
client_expect_closed (Client *client,
                      gushort code)
{
  WAIT_UNTIL (client->closed);

  if (!g_queue_is_empty (&client->messages))
    g_error ("%s: unexpected message before the close: %s", client->number,
             (char *) g_queue_peek_head (&client->messages));
  g_assert_cmpuint (client->close_code, ==, code);
}

/* Asks for the peers and checks that the answer is the very next message:
 * nothing else was queued for this phone before it. Returns the numbers. */
static GStrv
client_sync (Client *client)
{
  g_autoptr(PlMessage) msg = NULL;

  client_send (client, "{\"type\":\"peers\"}");
  msg = client_expect (client, PL_MESSAGE_PEERS);

  return g_steal_pointer (&msg->numbers);
}

static void
client_sync_nothing_else (Client *client)
{
  g_auto(GStrv) numbers = client_sync (client);
}

static void
client_register (Client     *client,
                 const char *number)
{
  g_autoptr(PlMessage) msg = NULL;

  client_sendf (client, "{\"type\":\"register\",\"number\":\"%s\"}", number);
  msg = client_expect (client, PL_MESSAGE_REGISTERED);
  g_assert_cmpstr (msg->number, ==, number);
  g_free (client->number);
  client->number = g_strdup (number);
}

static Client *
client_new_registered (Fixture    *f,
                       const char *number)
{
  Client *client = client_connect (f);

  client_register (client, number);

  return client;
}

/* @caller dials @callee; the callee gets the offer with `from`. */
static void
start_call (Client     *caller,
            Client     *callee,
            const char *call_id)
{
  g_autoptr(PlMessage) msg = NULL;
  g_autoptr(JsonObject) object = NULL;
  g_autofree char *text = NULL;

  client_sendf (caller, "{\"type\":\"call\",\"call_id\":\"%s\",\"to\":\"%s\",\"sdp\":\"%s\"}",
                call_id, callee->number, "v=0\\r\\no=- 1 1 IN IP4 127.0.0.1\\r\\ns=-\\r\\n"
                "t=0 0\\r\\nm=audio 9 UDP/TLS/RTP/SAVPF 96\\r\\n");

  text = client_next (callee);
  object = parse_object (text);
  g_assert_false (json_object_has_member (object, "to"));
  msg = pl_message_parse (text, -1, NULL);
  g_assert_nonnull (msg);
  g_assert_cmpint (msg->type, ==, PL_MESSAGE_CALL);
  g_assert_true (pl_message_validate (msg, PL_PROTOCOL_TO_PHONE, NULL));
  g_assert_cmpstr (msg->call_id, ==, call_id);
  g_assert_cmpstr (msg->from, ==, caller->number);
  g_assert_cmpstr (msg->sdp, ==, SDP_OFFER);
}

static void
client_close (Client *client)
{
  soup_websocket_connection_close (client->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  WAIT_UNTIL (client->closed);
}

/* raw clients */

static void raw_client_read (RawClient *raw);

static void
raw_client_parse (RawClient *raw)
{
  if (!raw->handshake_done) {
    const char *data = (const char *) raw->in->data;
    const char *end = g_strstr_len (data, raw->in->len, "\r\n\r\n");

    if (end == NULL)
      return;
    if (!g_str_has_prefix (data, "HTTP/1.1 101")) {
      raw->refused = TRUE;
      g_test_message ("handshake answered: %.*s", (int) (strchr (data, '\r') - data), data);
      g_byte_array_set_size (raw->in, 0);
      return;
    }
    g_byte_array_remove_range (raw->in, 0, end + 4 - data);
    raw->handshake_done = TRUE;
  }

  /* Server frames: unmasked, unfragmented. */
  while (raw->in->len >= 2) {
    const guint8 *data = raw->in->data;
    guint opcode = data[0] & 0x0f;
    guint64 length = data[1] & 0x7f;
    gsize header = 2;

    g_assert_false (data[1] & 0x80);
    if (length == 126) {
      if (raw->in->len < 4)
        return;
      length = ((guint64) data[2] << 8) | data[3];
      header = 4;
    } else if (length == 127) {
      if (raw->in->len < 10)
        return;
      length = 0;
      for (guint i = 0; i < 8; i++)
        length = (length << 8) | data[2 + i];
      header = 10;
    }
    if (raw->in->len < header + length)
      return;

    switch (opcode) {
    case 0x1:
      g_queue_push_tail (&raw->messages, g_strndup ((const char *) data + header, length));
      break;
    case 0x8:
      raw->got_close = TRUE;
      raw->close_code = length >= 2 ? (data[header] << 8) | data[header + 1] : 0;
      break;
    case 0x9:
      raw->n_pings++;
      break;
    default:
      g_error ("unexpected frame opcode %u from the server", opcode);
    }

    g_byte_array_remove_range (raw->in, 0, header + length);
  }
}

static void
raw_client_read_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  RawClient *raw = user_data;
  g_autoptr(GError) error = NULL;
  gssize n;

  raw->reading = FALSE;
  n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);
  if (n <= 0) {
    raw->eof = TRUE;
    return;
  }

  g_byte_array_append (raw->in, raw->buffer, n);
  raw_client_parse (raw);
  raw_client_read (raw);
}

static void
raw_client_read (RawClient *raw)
{
  GInputStream *input = g_io_stream_get_input_stream (G_IO_STREAM (raw->conn));

  raw->reading = TRUE;
  g_input_stream_read_async (input, raw->buffer, sizeof raw->buffer, G_PRIORITY_DEFAULT,
                             raw->cancellable, raw_client_read_cb, raw);
}

static void
raw_client_write_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  gboolean *done = user_data;

  /* The server may have closed first (a refused message): that is fine. */
  g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, NULL);
  *done = TRUE;
}

/* Written while the main context runs: the server on it reads meanwhile. */
static void
raw_client_write (RawClient    *raw,
                  const guint8 *data,
                  gsize         length)
{
  GOutputStream *output = g_io_stream_get_output_stream (G_IO_STREAM (raw->conn));
  gboolean done = FALSE;

  g_output_stream_write_all_async (output, data, length, G_PRIORITY_DEFAULT, NULL,
                                   raw_client_write_cb, &done);
  WAIT_UNTIL (done);
}

/* One masked frame; @fin FALSE leaves the message open for continuations
 * (opcode 0). */
static void
raw_client_send_frame (RawClient    *raw,
                       guint8        opcode,
                       gboolean      fin,
                       const guint8 *payload,
                       gsize         length)
{
  static const guint8 mask[4] = { 0x12, 0x34, 0x56, 0x78 };
  g_autoptr(GByteArray) frame = g_byte_array_sized_new (length + 14);
  guint8 header[10];
  gsize header_len;

  header[0] = (fin ? 0x80 : 0) | opcode;
  if (length < 126) {
    header[1] = 0x80 | length;
    header_len = 2;
  } else if (length < 65536) {
    header[1] = 0x80 | 126;
    header[2] = length >> 8;
    header[3] = length & 0xff;
    header_len = 4;
  } else {
    header[1] = 0x80 | 127;
    for (guint i = 0; i < 8; i++)
      header[2 + i] = ((guint64) length >> (56 - 8 * i)) & 0xff;
    header_len = 10;
  }
  g_byte_array_append (frame, header, header_len);
  g_byte_array_append (frame, mask, 4);
  g_byte_array_set_size (frame, header_len + 4 + length);
  for (gsize i = 0; i < length; i++)
    frame->data[header_len + 4 + i] = payload[i] ^ mask[i % 4];

  raw_client_write (raw, frame->data, frame->len);
}

static void
raw_client_send_text (RawClient  *raw,
                      const char *text)
{
  raw_client_send_frame (raw, 0x1, TRUE, (const guint8 *) text, strlen (text));
}

static void
socket_connect_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  RawClient *raw = user_data;
  g_autoptr(GError) error = NULL;

  raw->conn = g_socket_client_connect_finish (G_SOCKET_CLIENT (source), result, &error);
  g_assert_no_error (error);
}

/* A TCP connection from @source_ip (NULL: any), and nothing sent yet. */
static RawClient *
raw_client_connect_tcp (Fixture    *f,
                        const char *source_ip)
{
  g_autoptr(GSocketClient) socket_client = g_socket_client_new ();
  g_autoptr(GSocketAddress) address = NULL;
  RawClient *raw = g_new0 (RawClient, 1);

  g_socket_client_set_enable_proxy (socket_client, FALSE);
  if (source_ip != NULL) {
    g_autoptr(GSocketAddress) local = g_inet_socket_address_new_from_string (source_ip, 0);

    g_socket_client_set_local_address (socket_client, local);
  }
  raw->in = g_byte_array_new ();
  raw->cancellable = g_cancellable_new ();
  g_queue_init (&raw->messages);
  g_ptr_array_add (f->raw_clients, raw);

  address = g_inet_socket_address_new_from_string ("127.0.0.1", pl_server_get_port (f->server));
  g_socket_client_connect_async (socket_client, G_SOCKET_CONNECTABLE (address), NULL,
                                 socket_connect_cb, raw);
  WAIT_UNTIL (raw->conn != NULL);

  return raw;
}

/* Sends the handshake and waits for its answer, which is 101 or the end
 * of the stream (TRUE for 101). */
static gboolean
raw_client_try_handshake (Fixture   *f,
                          RawClient *raw)
{
  g_autofree char *request = NULL;

  request = g_strdup_printf ("GET /ws HTTP/1.1\r\n"
                             "Host: 127.0.0.1:%u\r\n"
                             "Upgrade: websocket\r\n"
                             "Connection: Upgrade\r\n"
                             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                             "Sec-WebSocket-Version: 13\r\n"
                             "\r\n", pl_server_get_port (f->server));
  raw_client_write (raw, (const guint8 *) request, strlen (request));
  raw_client_read (raw);
  WAIT_UNTIL (raw->handshake_done || raw->refused || raw->eof);

  return raw->handshake_done;
}

static RawClient *
raw_client_connect (Fixture *f)
{
  RawClient *raw = raw_client_connect_tcp (f, NULL);

  g_assert_true (raw_client_try_handshake (f, raw));

  return raw;
}

static char *
raw_client_next (RawClient *raw)
{
  WAIT_UNTIL (!g_queue_is_empty (&raw->messages) || raw->eof);
  g_assert_false (g_queue_is_empty (&raw->messages));

  return g_queue_pop_head (&raw->messages);
}

/* Drops the TCP connection without a close frame. */
static void
raw_client_drop (RawClient *raw)
{
  g_cancellable_cancel (raw->cancellable);
  WAIT_UNTIL (!raw->reading);
  g_io_stream_close (G_IO_STREAM (raw->conn), NULL, NULL);
}

static void
raw_client_free (RawClient *raw)
{
  g_cancellable_cancel (raw->cancellable);
  WAIT_UNTIL (!raw->reading);
  if (raw->conn != NULL)
    g_io_stream_close (G_IO_STREAM (raw->conn), NULL, NULL);
  g_clear_object (&raw->conn);
  g_clear_object (&raw->cancellable);
  g_byte_array_unref (raw->in);
  g_queue_clear_full (&raw->messages, g_free);
  g_free (raw);
}

/* partyline-server processes */

static void server_process_read_line (ServerProcess *sp);

static void
read_line_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  ServerProcess *sp = user_data;
  g_autoptr(GError) error = NULL;
  char *line;
  guint port;

  line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), result,
                                                    NULL, &error);
  if (line == NULL) {
    sp->eof = TRUE;
    return;
  }

  g_test_message ("partyline-server: %s", line);
  if (sscanf (line, "listening on ws://127.0.0.1:%u/ws", &port) == 1)
    sp->port = port;
  g_ptr_array_add (sp->lines, line);
  server_process_read_line (sp);
}

static void
server_process_read_line (ServerProcess *sp)
{
  g_data_input_stream_read_line_async (sp->stderr_lines, G_PRIORITY_DEFAULT, sp->cancellable,
                                       read_line_cb, sp);
}

static void
subprocess_wait_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  ServerProcess *sp = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  sp->exited = TRUE;
}

static const char *
server_binary (void)
{
  const char *path = g_getenv ("PARTYLINE_SERVER");

  if (path == NULL)
    g_error ("PARTYLINE_SERVER must name the built partyline-server (meson sets it)");

  return path;
}

/* Runs partyline-server with @args (NULL-terminated), collecting stderr
 * line by line until it exits. */
static ServerProcess *
server_process_spawn (Fixture    *f,
                      const char *first_arg,
                      ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  ServerProcess *sp = g_new0 (ServerProcess, 1);
  va_list args;

  g_assert_null (f->process);
  f->process = sp;

  g_ptr_array_add (argv, (char *) server_binary ());
  va_start (args, first_arg);
  for (const char *arg = first_arg; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (char *) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  sp->lines = g_ptr_array_new_with_free_func (g_free);
  sp->cancellable = g_cancellable_new ();
  sp->process = g_subprocess_newv ((const char * const *) argv->pdata,
                                   G_SUBPROCESS_FLAGS_STDERR_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE,
                                   &error);
  g_assert_no_error (error);

  sp->stderr_lines = g_data_input_stream_new (g_subprocess_get_stderr_pipe (sp->process));
  server_process_read_line (sp);
  g_subprocess_wait_async (sp->process, NULL, subprocess_wait_cb, sp);

  return sp;
}

static int
server_process_wait_exit (ServerProcess *sp)
{
  WAIT_UNTIL (sp->exited && sp->eof);
  g_assert_true (g_subprocess_get_if_exited (sp->process));

  return g_subprocess_get_exit_status (sp->process);
}

static void
server_process_free (ServerProcess *sp)
{
  if (!sp->exited) {
    g_subprocess_force_exit (sp->process);
    WAIT_UNTIL (sp->exited);
  }
  g_cancellable_cancel (sp->cancellable);
  WAIT_UNTIL (sp->eof);
  g_clear_object (&sp->stderr_lines);
  g_clear_object (&sp->process);
  g_clear_object (&sp->cancellable);
  g_ptr_array_unref (sp->lines);
  g_free (sp);
}

static guint
count_lines_with (GPtrArray  *lines,
                  const char *needle)
{
  guint n = 0;

  for (guint i = 0; i < lines->len; i++) {
    if (strstr (g_ptr_array_index (lines, i), needle) != NULL)
      n++;
  }

  return n;
}

/* fixture */

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->watchdog_id = g_timeout_add_seconds (WATCHDOG_SECONDS, on_watchdog_timeout, NULL);
  f->clients = g_ptr_array_new ();
  f->raw_clients = g_ptr_array_new ();
  /* No proxy: the default resolver would read GSettings, which the
   * isolated test directories do not have. */
  f->session = soup_session_new_with_options ("proxy-resolver", NULL, NULL);

  f->server = pl_server_new ();
  pl_server_listen (f->server, "127.0.0.1", 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (pl_server_get_port (f->server), !=, 0);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  for (guint i = 0; i < f->clients->len; i++) {
    Client *client = g_ptr_array_index (f->clients, i);

    if (client->ws != NULL &&
        soup_websocket_connection_get_state (client->ws) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (client->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  }
  for (guint i = 0; i < f->clients->len; i++) {
    Client *client = g_ptr_array_index (f->clients, i);

    WAIT_UNTIL (client->ws == NULL || client->closed);
    client_free (client);
  }
  g_ptr_array_unref (f->clients);

  g_ptr_array_foreach (f->raw_clients, (GFunc) raw_client_free, NULL);
  g_ptr_array_unref (f->raw_clients);

  g_clear_pointer (&f->process, server_process_free);

  WAIT_UNTIL (pl_server_get_n_connections (f->server) == 0);
  g_assert_cmpuint (pl_server_get_n_calls (f->server), ==, 0);
  g_assert_finalize_object (f->server);
  g_assert_finalize_object (f->session);

  g_clear_handle_id (&f->watchdog_id, g_source_remove);
}

/* registration */

static void
test_register (Fixture       *f,
               gconstpointer  data)
{
  Client *a = client_connect (f);
  g_auto(GStrv) numbers = NULL;

  g_assert_cmpuint (pl_server_get_n_connections (f->server), ==, 1);
  client_register (a, "1001");
  numbers = client_sync (a);
  g_assert_cmpstrv (numbers, ((const char * const []) { "1001", NULL }));
}

static void
test_register_bad_request (Fixture       *f,
                           gconstpointer  data)
{
  Client *a = client_connect (f);

  a->number = g_strdup ("a");
  client_send (a, "{\"type\":\"register\"}");
  client_expect_error (a, "bad-request", "register", NULL);
  client_send (a, "{\"type\":\"register\",\"number\":1001}");
  client_expect_error (a, "bad-request", "register", NULL);
  client_send (a, "{\"type\":\"register\",\"number\":\"10 01\"}");
  client_expect_error (a, "bad-request", "register", NULL);
  client_send (a, "{\"type\":\"register\",\"number\":\"123456789012345678901234567890123\"}");
  client_expect_error (a, "bad-request", "register", NULL);
  client_send (a, "{\"type\":\"register\",\"number\":\"1001\",\"token\":5}");
  client_expect_error (a, "bad-request", "register", NULL);

  /* Errors never close: the phone registers now. */
  client_register (a, "1001");

  /* Already registered on this connection, under any number. */
  client_send (a, "{\"type\":\"register\",\"number\":\"1001\"}");
  client_expect_error (a, "bad-request", "register", NULL);
  client_send (a, "{\"type\":\"register\",\"number\":\"1009\"}");
  client_expect_error (a, "bad-request", "register", NULL);
  client_sync_nothing_else (a);
}

static void
test_register_number_taken (Fixture       *f,
                            gconstpointer  data)
{
  Client *a = client_new_registered (f, "1001");
  Client *b = client_connect (f);
  Client *c;

  b->number = g_strdup ("b");
  client_send (b, "{\"type\":\"register\",\"number\":\"1001\"}");
  client_expect_error (b, "number-taken", "register", NULL);

  /* The number is free again once its phone is gone. */
  client_close (a);
  client_register (b, "1001");

  c = client_connect (f);
  c->number = g_strdup ("c");
  client_send (c, "{\"type\":\"register\",\"number\":\"1001\"}");
  client_expect_error (c, "number-taken", "register", NULL);
}

static void
test_register_unauthorized (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(PlMessage) registered = NULL;
  Client *a;
  Client *b;

  pl_server_set_token (f->server, "s3cret");
  a = client_connect (f);
  a->number = g_strdup ("a");

  client_send (a, "{\"type\":\"register\",\"number\":\"1001\"}");
  client_expect_error (a, "unauthorized", "register", NULL);
  client_send (a, "{\"type\":\"register\",\"number\":\"1001\",\"token\":\"S3CRET\"}");
  client_expect_error (a, "unauthorized", "register", NULL);

  /* Two failures do not close; the right token registers. */
  client_send (a, "{\"type\":\"register\",\"number\":\"1001\",\"token\":\"s3cret\"}");
  registered = client_expect (a, PL_MESSAGE_REGISTERED);
  g_assert_cmpstr (registered->number, ==, "1001");

  /* A malformed register with a bad token is a bad-request first. */
  b = client_connect (f);
  b->number = g_strdup ("b");
  client_send (b, "{\"type\":\"register\",\"number\":\"bad number\",\"token\":\"x\"}");
  client_expect_error (b, "bad-request", "register", NULL);
  client_send (b, "{\"type\":\"register\",\"number\":\"1001\",\"token\":\"s3cret\"}");
  client_expect_error (b, "number-taken", "register", NULL);
}

static void
test_register_unauthorized_close (Fixture       *f,
                                  gconstpointer  data)
{
  Client *a;

  pl_server_set_token (f->server, "s3cret");
  g_assert_cmpuint (pl_server_get_max_auth_failures (f->server), ==, 3);
  a = client_connect (f);
  a->number = g_strdup ("a");

  for (guint i = 0; i < 3; i++) {
    client_send (a, "{\"type\":\"register\",\"number\":\"1001\",\"token\":\"guess\"}");
    client_expect_error (a, "unauthorized", "register", NULL);
  }
  client_expect_closed (a, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION);
}

/* Every type but register before registration: not-registered, with ref
 * and call_id, even when the message is otherwise malformed. */
static void
test_not_registered (Fixture       *f,
                     gconstpointer  data)
{
  Client *a = client_connect (f);

  a->number = g_strdup ("a");
  client_send (a, "{\"type\":\"peers\"}");
  client_expect_error (a, "not-registered", "peers", NULL);
  client_send (a, "{\"type\":\"call\",\"call_id\":\"" CALL_1 "\",\"to\":\"1002\",\"sdp\":\"v=0\"}");
  client_expect_error (a, "not-registered", "call", CALL_1);
  client_send (a, "{\"type\":\"ringing\",\"call_id\":\"" CALL_1 "\"}");
  client_expect_error (a, "not-registered", "ringing", CALL_1);
  client_send (a, "{\"type\":\"accept\",\"call_id\":\"" CALL_1 "\",\"sdp\":\"v=0\"}");
  client_expect_error (a, "not-registered", "accept", CALL_1);
  client_send (a, "{\"type\":\"ice\",\"call_id\":\"" CALL_1 "\",\"candidate\":\"c\",\"sdp_mline_index\":0}");
  client_expect_error (a, "not-registered", "ice", CALL_1);
  client_send (a, "{\"type\":\"hangup\",\"call_id\":\"" CALL_1 "\",\"reason\":\"normal\"}");
  client_expect_error (a, "not-registered", "hangup", CALL_1);
  client_send (a, "{\"type\":\"ice\"}");
  client_expect_error (a, "not-registered", "ice", NULL);
  client_send (a, "{\"type\":\"hangup\",\"call_id\":\"bad\"}");
  client_expect_error (a, "not-registered", "hangup", "bad");
  client_send (a, "{\"type\":\"registered\",\"number\":\"1001\"}");
  client_expect_error (a, "not-registered", "registered", NULL);
  client_send (a, "{\"type\":\"error\",\"code\":\"busy\",\"message\":\"m\"}");
  client_expect_error (a, "not-registered", "error", NULL);

  client_register (a, "1001");
  client_sync_nothing_else (a);
}

/* The checks and their order (docs/protocol.md, "error (server → phone)"). */
static void
test_check_order (Fixture       *f,
                  gconstpointer  data)
{
  Client *u = client_connect (f);
  g_autoptr(PlMessage) peers = NULL;
  Client *a;

  /* Not JSON, not an object: bad-request, no ref, no call_id. */
  u->number = g_strdup ("u");
  client_send (u, "not json");
  client_expect_error (u, "bad-request", NULL, NULL);
  client_send (u, "{\"type\":\"peers\"");
  client_expect_error (u, "bad-request", NULL, NULL);
  client_send (u, "[{\"type\":\"peers\"}]");
  client_expect_error (u, "bad-request", NULL, NULL);
  client_send (u, "\"peers\"");
  client_expect_error (u, "bad-request", NULL, NULL);

  /* No string type, or an unknown one: bad-request before not-registered. */
  client_send (u, "{\"call_id\":\"" CALL_1 "\"}");
  client_expect_error (u, "bad-request", NULL, CALL_1);
  client_send (u, "{\"type\":7,\"call_id\":\"" CALL_1 "\"}");
  client_expect_error (u, "bad-request", NULL, CALL_1);
  client_send (u, "{\"type\":null}");
  client_expect_error (u, "bad-request", NULL, NULL);
  client_send (u, "{\"type\":\"bogus\",\"call_id\":\"" CALL_1 "\"}");
  client_expect_error (u, "bad-request", "bogus", CALL_1);
  client_send (u, "{\"type\":\"Register\",\"number\":\"1001\"}");
  client_expect_error (u, "bad-request", "Register", NULL);

  /* Then not-registered, before any field check. */
  client_send (u, "{\"type\":\"ice\",\"call_id\":7}");
  client_expect_error (u, "not-registered", "ice", NULL);

  /* Binary frames are not messages. */
  soup_websocket_connection_send_binary (u->ws, "{}", 2);
  client_expect_error (u, "bad-request", NULL, NULL);

  a = client_new_registered (f, "1001");

  /* A missing or malformed field: bad-request, before unknown-call. */
  client_send (a, "{\"type\":\"ice\",\"call_id\":\"bad\",\"candidate\":\"c\",\"sdp_mline_index\":0}");
  client_expect_error (a, "bad-request", "ice", "bad");
  client_send (a, "{\"type\":\"ice\",\"call_id\":\"" CALL_1 "\",\"candidate\":\"c\"}");
  client_expect_error (a, "bad-request", "ice", CALL_1);
  client_send (a, "{\"type\":\"ice\",\"call_id\":\"" CALL_1 "\",\"candidate\":\"c\",\"sdp_mline_index\":0.0}");
  client_expect_error (a, "bad-request", "ice", CALL_1);
  client_send (a, "{\"type\":\"ice\",\"call_id\":\"" CALL_1 "\",\"candidate\":\"c\",\"sdp_mline_index\":1.5}");
  client_expect_error (a, "bad-request", "ice", CALL_1);
  client_send (a, "{\"type\":\"ice\",\"call_id\":\"" CALL_1 "\",\"candidate\":\"c\",\"sdp_mline_index\":-1}");
  client_expect_error (a, "bad-request", "ice", CALL_1);
  client_send (a, "{\"type\":\"ice\",\"call_id\":\"" CALL_1 "\",\"candidate\":\"c\",\"sdp_mline_index\":\"0\"}");
  client_expect_error (a, "bad-request", "ice", CALL_1);
  client_send (a, "{\"type\":\"ice\",\"call_id\":\"" CALL_1 "\",\"candidate\":5,\"sdp_mline_index\":0}");
  client_expect_error (a, "bad-request", "ice", CALL_1);
  client_send (a, "{\"type\":\"hangup\",\"call_id\":\"" CALL_1 "\"}");
  client_expect_error (a, "bad-request", "hangup", CALL_1);
  client_send (a, "{\"type\":\"accept\",\"call_id\":\"" CALL_1 "\",\"sdp\":\"\"}");
  client_expect_error (a, "bad-request", "accept", CALL_1);
  client_send (a, "{\"type\":\"ringing\"}");
  client_expect_error (a, "bad-request", "ringing", NULL);
  client_send (a, "{\"type\":\"call\",\"call_id\":\"" CALL_1 "\",\"to\":\"1002\"}");
  client_expect_error (a, "bad-request", "call", CALL_1);
  client_send (a, "{\"type\":\"call\",\"call_id\":\"" CALL_1 "\",\"to\":1002,\"sdp\":\"v=0\"}");
  client_expect_error (a, "bad-request", "call", CALL_1);
  client_send (a, "{\"type\":\"call\",\"call_id\":\"" CALL_1 "\",\"from\":\"1002\",\"sdp\":\"v=0\"}");
  client_expect_error (a, "bad-request", "call", CALL_1);

  /* Server-to-phone types are not accepted from a phone. */
  client_send (a, "{\"type\":\"registered\",\"number\":\"1001\"}");
  client_expect_error (a, "bad-request", "registered", NULL);
  client_send (a, "{\"type\":\"error\",\"code\":\"busy\",\"message\":\"m\"}");
  client_expect_error (a, "bad-request", "error", NULL);

  /* Well formed, but not a call of this phone. */
  client_send (a, "{\"type\":\"ice\",\"call_id\":\"" CALL_1 "\",\"candidate\":\"c\",\"sdp_mline_index\":0}");
  client_expect_error (a, "unknown-call", "ice", CALL_1);

  /* Unknown fields are ignored. */
  client_send (a, "{\"type\":\"peers\",\"x-extension\":{\"a\":[1,2]}}");
  peers = client_expect (a, PL_MESSAGE_PEERS);
  client_sync_nothing_else (a);
}

/* calls */

static void
test_call_flow (Fixture       *f,
                gconstpointer  data)
{
  Client *a = client_new_registered (f, "1001");
  Client *b = client_new_registered (f, "1002");
  g_autoptr(PlMessage) ringing = NULL;
  g_autoptr(PlMessage) accept = NULL;
  g_autoptr(PlMessage) ice_ab = NULL;
  g_autoptr(PlMessage) ice_ba = NULL;
  g_autoptr(PlMessage) ice_end = NULL;

  start_call (a, b, CALL_1);
  g_assert_cmpuint (pl_server_get_n_calls (f->server), ==, 1);

  /* The caller trickles before the answer. */
  client_sendf (a, "{\"type\":\"ice\",\"call_id\":\"%s\",\"candidate\":\"%s\",\"sdp_mline_index\":0,"
                "\"sdpMid\":\"0\"}", CALL_1,
                "candidate:1 1 UDP 2122252543 127.0.0.1 40000 typ host generation 0 ufrag x network-id 1");
  ice_ab = client_expect (b, PL_MESSAGE_ICE);
  g_assert_cmpstr (ice_ab->call_id, ==, CALL_1);
  g_assert_cmpstr (ice_ab->candidate, ==,
                   "candidate:1 1 UDP 2122252543 127.0.0.1 40000 typ host generation 0 ufrag x network-id 1");
  g_assert_cmpint (ice_ab->sdp_mline_index, ==, 0);

  client_sendf (b, "{\"type\":\"ringing\",\"call_id\":\"%s\"}", CALL_1);
  ringing = client_expect (a, PL_MESSAGE_RINGING);
  g_assert_cmpstr (ringing->call_id, ==, CALL_1);

  client_sendf (b, "{\"type\":\"accept\",\"call_id\":\"%s\",\"sdp\":\"%s\"}", CALL_1,
                "v=0\\r\\no=- 2 1 IN IP4 127.0.0.1\\r\\ns=-\\r\\nt=0 0\\r\\n"
                "m=audio 9 UDP/TLS/RTP/SAVPF 96\\r\\n");
  accept = client_expect (a, PL_MESSAGE_ACCEPT);
  g_assert_cmpstr (accept->call_id, ==, CALL_1);
  g_assert_cmpstr (accept->sdp, ==, SDP_ANSWER);

  client_sendf (b, "{\"type\":\"ice\",\"call_id\":\"%s\",\"candidate\":\"candidate:2 1 TCP 1518280447 "
                "127.0.0.1 9 typ host tcptype active\",\"sdp_mline_index\":1}", CALL_1);
  ice_ba = client_expect (a, PL_MESSAGE_ICE);
  g_assert_cmpstr (ice_ba->candidate, ==, "candidate:2 1 TCP 1518280447 127.0.0.1 9 typ host tcptype active");
  g_assert_cmpint (ice_ba->sdp_mline_index, ==, 1);

  /* End of candidates, as a browser sends it. */
  client_sendf (b, "{\"type\":\"ice\",\"call_id\":\"%s\",\"candidate\":\"\"}", CALL_1);
  ice_end = client_expect (a, PL_MESSAGE_ICE);
  g_assert_cmpstr (ice_end->candidate, ==, "");
  g_assert_cmpint (ice_end->sdp_mline_index, ==, -1);

  client_sendf (a, "{\"type\":\"hangup\",\"call_id\":\"%s\",\"reason\":\"normal\"}", CALL_1);
  client_expect_hangup (b, CALL_1, "normal");
  g_assert_cmpuint (pl_server_get_n_calls (f->server), ==, 0);

  client_sync_nothing_else (a);
  client_sync_nothing_else (b);
}

static void
test_call_rejected (Fixture       *f,
                    gconstpointer  data)
{
  Client *a = client_new_registered (f, "1001");
  Client *b = client_new_registered (f, "1002");

  start_call (a, b, CALL_1);
  client_sendf (b, "{\"type\":\"hangup\",\"call_id\":\"%s\",\"reason\":\"rejected\"}", CALL_1);
  client_expect_hangup (a, CALL_1, "rejected");

  /* Any reason string is passed through. */
  start_call (b, a, CALL_2);
  client_sendf (b, "{\"type\":\"hangup\",\"call_id\":\"%s\",\"reason\":\"x-custom\"}", CALL_2);
  client_expect_hangup (a, CALL_2, "x-custom");
  g_assert_cmpuint (pl_server_get_n_calls (f->server), ==, 0);
}

static void
test_call_not_found (Fixture       *f,
                     gconstpointer  data)
{
  Client *a = client_new_registered (f, "1001");

  client_sendf (a, "{\"type\":\"call\",\"call_id\":\"%s\",\"to\":\"9999\",\"sdp\":\"v=0\"}", CALL_1);
  client_expect_hangup (a, CALL_1, "not-found");
  g_assert_cmpuint (pl_server_get_n_calls (f->server), ==, 0);

  /* The call was never known. */
  client_sendf (a, "{\"type\":\"hangup\",\"call_id\":\"%s\",\"reason\":\"normal\"}", CALL_1);
  client_expect_error (a, "unknown-call", "hangup", CALL_1);
}

static void
test_call_bad_request (Fixture       *f,
                       gconstpointer  data)
{
  Client *a = client_new_registered (f, "1001");
  Client *b = client_new_registered (f, "1002");
  Client *c = client_new_registered (f, "1003");

  /* Calling yourself. */
  client_sendf (a, "{\"type\":\"call\",\"call_id\":\"%s\",\"to\":\"1001\",\"sdp\":\"v=0\"}", CALL_1);
  client_expect_error (a, "bad-request", "call", CALL_1);

  /* A call_id already in use, by the same caller or by anyone. */
  start_call (a, b, CALL_1);
  client_sendf (a, "{\"type\":\"call\",\"call_id\":\"%s\",\"to\":\"1003\",\"sdp\":\"v=0\"}", CALL_1);
  client_expect_error (a, "bad-request", "call", CALL_1);
  client_sendf (c, "{\"type\":\"call\",\"call_id\":\"%s\",\"to\":\"1002\",\"sdp\":\"v=0\"}", CALL_1);
  client_expect_error (c, "bad-request", "call", CALL_1);
  client_sendf (c, "{\"type\":\"call\",\"call_id\":\"%s\",\"to\":\"9999\",\"sdp\":\"v=0\"}", CALL_1);
  client_expect_error (c, "bad-request", "call", CALL_1);

  client_sync_nothing_else (b);
  client_sync_nothing_else (c);
  g_assert_cmpuint (pl_server_get_n_calls (f->server), ==, 1);

  client_sendf (b, "{\"type\":\"hangup\",\"call_id\":\"%s\",\"reason\":\"rejected\"}", CALL_1);
  client_expect_hangup (a, CALL_1, "rejected");
}

static void
test_call_busy (Fixture       *f,
                gconstpointer  data)
{
  Client *a = client_new_registered (f, "1001");
  Client *b = client_new_registered (f, "1002");
  Client *c = client_new_registered (f, "1003");

  start_call (a, b, CALL_1);

  /* Same direction, then the other one. */
  client_sendf (a, "{\"type\":\"call\",\"call_id\":\"%s\",\"to\":\"1002\",\"sdp\":\"v=0\"}", CALL_2);
  client_expect_error (a, "busy", "call", CALL_2);
  client_sendf (b, "{\"type\":\"call\",\"call_id\":\"%s\",\"to\":\"1001\",\"sdp\":\"v=0\"}", CALL_3);
  client_expect_error (b, "busy", "call", CALL_3);
  client_sync_nothing_else (a);
  client_sync_nothing_else (b);
  g_assert_cmpuint (pl_server_get_n_calls (f->server), ==, 1);

  /* A third number is not busy. */
  start_call (c, a, CALL_2);
  g_assert_cmpuint (pl_server_get_n_calls (f->server), ==, 2);

  /* Once the call is over, the two may call again, either way. */
  client_sendf (a, "{\"type\":\"hangup\",\"call_id\":\"%s\",\"reason\":\"normal\"}", CALL_1);
  client_expect_hangup (b, CALL_1, "normal");
  start_call (b, a, CALL_3);

  client_sendf (a, "{\"type\":\"hangup\",\"call_id\":\"%s\",\"reason\":\"normal\"}", CALL_2);
  client_expect_hangup (c, CALL_2, "normal");
  client_sendf (a, "{\"type\":\"hangup\",\"call_id\":\"%s\",\"reason\":\"normal\"}", CALL_3);
  client_expect_hangup (b, CALL_3, "normal");
}

/* Only the callee sends ringing and accept. */
static void
test_call_callee_only (Fixture       *f,
                       gconstpointer  data)
{
  Client *a = client_new_registered (f, "1001");
  Client *b = client_new_registered (f, "1002");
  g_autoptr(PlMessage) ringing = NULL;

  start_call (a, b, CALL_1);
  client_sendf (a, "{\"type\":\"ringing\",\"call_id\":\"%s\"}", CALL_1);
  client_expect_error (a, "bad-request", "ringing", CALL_1);
  client_sendf (a, "{\"type\":\"accept\",\"call_id\":\"%s\",\"sdp\":\"v=0\"}", CALL_1);
  client_expect_error (a, "bad-request", "accept", CALL_1);
  client_sync_nothing_else (b);

  client_sendf (b, "{\"type\":\"ringing\",\"call_id\":\"%s\"}", CALL_1);
  ringing = client_expect (a, PL_MESSAGE_RINGING);

  client_sendf (b, "{\"type\":\"hangup\",\"call_id\":\"%s\",\"reason\":\"rejected\"}", CALL_1);
  client_expect_hangup (a, CALL_1, "rejected");
}

/* A call is routed between its two parties only. */
static void
test_call_unknown_call (Fixture       *f,
                        gconstpointer  data)
{
  Client *a = client_new_registered (f, "1001");
  Client *b = client_new_registered (f, "1002");
  Client *c = client_new_registered (f, "1003");
  g_autoptr(PlMessage) ice = NULL;

  start_call (a, b, CALL_1);

  /* A third phone using someone else's call_id. */
  client_sendf (c, "{\"type\":\"ice\",\"call_id\":\"%s\",\"candidate\":\"c\",\"sdp_mline_index\":0}", CALL_1);
  client_expect_error (c, "unknown-call", "ice", CALL_1);
  client_sendf (c, "{\"type\":\"ringing\",\"call_id\":\"%s\"}", CALL_1);
  client_expect_error (c, "unknown-call", "ringing", CALL_1);
  client_sendf (c, "{\"type\":\"accept\",\"call_id\":\"%s\",\"sdp\":\"v=0\"}", CALL_1);
  client_expect_error (c, "unknown-call", "accept", CALL_1);
  client_sendf (c, "{\"type\":\"hangup\",\"call_id\":\"%s\",\"reason\":\"normal\"}", CALL_1);
  client_expect_error (c, "unknown-call", "hangup", CALL_1);
  client_sync_nothing_else (a);
  client_sync_nothing_else (b);

  /* The call is untouched. */
  g_assert_cmpuint (pl_server_get_n_calls (f->server), ==, 1);
  client_sendf (b, "{\"type\":\"ice\",\"call_id\":\"%s\",\"candidate\":\"c\",\"sdp_mline_index\":0}", CALL_1);
  ice = client_expect (a, PL_MESSAGE_ICE);

  /* A call_id nobody knows. */
  client_sendf (a, "{\"type\":\"ice\",\"call_id\":\"%s\",\"candidate\":\"c\",\"sdp_mline_index\":0}", CALL_2);
  client_expect_error (a, "unknown-call", "ice", CALL_2);

  /* After hangup both sides forget the call: a late ICE is refused. */
  client_sendf (a, "{\"type\":\"hangup\",\"call_id\":\"%s\",\"reason\":\"normal\"}", CALL_1);
  client_expect_hangup (b, CALL_1, "normal");
  client_sendf (b, "{\"type\":\"ice\",\"call_id\":\"%s\",\"candidate\":\"c\",\"sdp_mline_index\":0}", CALL_1);
  client_expect_error (b, "unknown-call", "ice", CALL_1);
  client_sendf (a, "{\"type\":\"ice\",\"call_id\":\"%s\",\"candidate\":\"\"}", CALL_1);
  client_expect_error (a, "unknown-call", "ice", CALL_1);
  client_sendf (b, "{\"type\":\"hangup\",\"call_id\":\"%s\",\"reason\":\"normal\"}", CALL_1);
  client_expect_error (b, "unknown-call", "hangup", CALL_1);

  /* The late ICE never reaches the next call between the same numbers. */
  start_call (a, b, CALL_2);
  client_sendf (a, "{\"type\":\"ice\",\"call_id\":\"%s\",\"candidate\":\"late\",\"sdp_mline_index\":0}",
                CALL_1);
  client_expect_error (a, "unknown-call", "ice", CALL_1);
  client_sync_nothing_else (b);
  client_sendf (a, "{\"type\":\"hangup\",\"call_id\":\"%s\",\"reason\":\"normal\"}", CALL_2);
  client_expect_hangup (b, CALL_2, "normal");
}

/* What a phone sends reaches the other party in the order sent: the ICE
 * sent right after the offer never overtakes it. */
static void
test_call_ordering (Fixture       *f,
                    gconstpointer  data)
{
  Client *a = client_new_registered (f, "1001");
  Client *b = client_new_registered (f, "1002");
  g_autoptr(PlMessage) call = NULL;
  const guint n = 200;

  client_sendf (a, "{\"type\":\"call\",\"call_id\":\"%s\",\"to\":\"1002\",\"sdp\":\"v=0\"}", CALL_1);
  for (guint i = 0; i < n; i++)
    client_sendf (a, "{\"type\":\"ice\",\"call_id\":\"%s\",\"candidate\":\"candidate:%u 1 UDP 1 "
                  "127.0.0.1 %u typ host\",\"sdp_mline_index\":%u}", CALL_1, i, 10000 + i, i % 3);
  client_sendf (a, "{\"type\":\"hangup\",\"call_id\":\"%s\",\"reason\":\"normal\"}", CALL_1);

  call = client_expect (b, PL_MESSAGE_CALL);
  g_assert_cmpstr (call->call_id, ==, CALL_1);
  for (guint i = 0; i < n; i++) {
    g_autoptr(PlMessage) ice = client_expect (b, PL_MESSAGE_ICE);
    g_autofree char *candidate = g_strdup_printf ("candidate:%u 1 UDP 1 127.0.0.1 %u typ host",
                                                  i, 10000 + i);

    g_assert_cmpstr (ice->candidate, ==, candidate);
    g_assert_cmpint (ice->sdp_mline_index, ==, i % 3);
  }
  client_expect_hangup (b, CALL_1, "normal");
  client_sync_nothing_else (a);
}

/* disconnections */

static void
test_disconnect_close (Fixture       *f,
                       gconstpointer  data)
{
  Client *a = client_new_registered (f, "1001");
  Client *b = client_new_registered (f, "1002");
  Client *c = client_new_registered (f, "1003");
  Client *d;

  start_call (a, b, CALL_1);
  start_call (c, a, CALL_2);
  g_assert_cmpuint (pl_server_get_n_calls (f->server), ==, 2);

  client_close (a);
  client_expect_hangup (b, CALL_1, "disconnected");
  client_expect_hangup (c, CALL_2, "disconnected");
  g_assert_cmpuint (pl_server_get_n_calls (f->server), ==, 0);

  /* Its number is free. */
  d = client_new_registered (f, "1001");
  client_sendf (b, "{\"type\":\"ice\",\"call_id\":\"%s\",\"candidate\":\"\"}", CALL_1);
  client_expect_error (b, "unknown-call", "ice", CALL_1);
  client_sync_nothing_else (d);
}

/* The socket just drops, without a close frame. */
static void
test_disconnect_abrupt (Fixture       *f,
                        gconstpointer  data)
{
  RawClient *raw = raw_client_connect (f);
  Client *b = client_new_registered (f, "1002");
  g_autofree char *registered = NULL;
  g_autoptr(PlMessage) call = NULL;

  raw_client_send_text (raw, "{\"type\":\"register\",\"number\":\"1001\"}");
  registered = raw_client_next (raw);
  g_assert_cmpstr (registered, ==, "{\"type\":\"registered\",\"number\":\"1001\"}");
  raw_client_send_text (raw, "{\"type\":\"call\",\"call_id\":\"" CALL_1 "\",\"to\":\"1002\",\"sdp\":\"v=0\"}");
  call = client_expect (b, PL_MESSAGE_CALL);
  g_assert_cmpstr (call->from, ==, "1001");

  raw_client_drop (raw);
  client_expect_hangup (b, CALL_1, "disconnected");
  WAIT_UNTIL (pl_server_get_n_connections (f->server) == 1);
  client_new_registered (f, "1001");
}

/* A peer that stops answering pings is treated as disconnected. */
static void
test_disconnect_ping_timeout (Fixture       *f,
                              gconstpointer  data)
{
  RawClient *raw;
  Client *b;
  g_autofree char *registered = NULL;
  g_autoptr(PlMessage) call = NULL;
  g_auto(GStrv) numbers = NULL;

  /* Seconds, not 10 and 30, so that the test is short. */
  pl_server_set_keepalive_interval (f->server, 1);
  pl_server_set_idle_timeout (f->server, 2);

  raw = raw_client_connect (f);
  b = client_new_registered (f, "1002");
  raw_client_send_text (raw, "{\"type\":\"register\",\"number\":\"1001\"}");
  registered = raw_client_next (raw);
  raw_client_send_text (raw, "{\"type\":\"call\",\"call_id\":\"" CALL_1 "\",\"to\":\"1002\",\"sdp\":\"v=0\"}");
  call = client_expect (b, PL_MESSAGE_CALL);

  /* The raw phone reads the pings and never answers them; b's libsoup
   * answers every ping, so b stays. */
  client_expect_hangup (b, CALL_1, "disconnected");
  g_assert_cmpuint (raw->n_pings, >=, 1);
  WAIT_UNTIL (raw->got_close || raw->eof);
  g_assert_true (raw->got_close);
  g_assert_cmpuint (raw->close_code, ==, SOUP_WEBSOCKET_CLOSE_GOING_AWAY);

  numbers = client_sync (b);
  g_assert_cmpstrv (numbers, ((const char * const []) { "1002", NULL }));
}

/* presence */

static void
test_peers (Fixture       *f,
            gconstpointer  data)
{
  Client *a = client_new_registered (f, "1002");
  Client *b = client_new_registered (f, "1001");
  Client *u = client_connect (f);
  g_auto(GStrv) both = NULL;
  g_auto(GStrv) one = NULL;
  g_autofree char *raw_answer = NULL;

  u->number = g_strdup ("u");
  both = client_sync (a);
  g_assert_cmpstrv (both, ((const char * const []) { "1001", "1002", NULL }));

  client_close (b);
  one = client_sync (a);
  g_assert_cmpstrv (one, ((const char * const []) { "1002", NULL }));

  /* The wire form of the answer. */
  client_send (a, "{\"type\":\"peers\"}");
  raw_answer = client_next (a);
  g_assert_cmpstr (raw_answer, ==, "{\"type\":\"peers\",\"numbers\":[\"1002\"]}");
}

/* limits */

static char *
padded_message (const char *head,
                gsize       total)
{
  GString *text = g_string_new (head);

  g_string_append (text, ",\"pad\":\"");
  while (text->len < total - 2)
    g_string_append_c (text, 'x');
  g_string_append (text, "\"}");
  g_assert_cmpuint (text->len, ==, total);

  return g_string_free (text, FALSE);
}

static void
test_too_large (Fixture       *f,
                gconstpointer  data)
{
  Client *a = client_new_registered (f, "1001");
  Client *b = client_new_registered (f, "1002");
  g_autofree char *at_limit = padded_message ("{\"type\":\"peers\"", PL_PROTOCOL_MAX_FRAME);
  g_autofree char *over_limit = padded_message ("{\"type\":\"ice\",\"call_id\":\"" CALL_1 "\"",
                                                PL_PROTOCOL_MAX_FRAME + 1);
  g_autoptr(PlMessage) peers = NULL;

  /* 65536 bytes is allowed. */
  client_send (a, at_limit);
  peers = client_expect (a, PL_MESSAGE_PEERS);

  start_call (a, b, CALL_1);
  client_send (a, over_limit);
  client_expect_error (a, "too-large", "ice", CALL_1);
  client_expect_closed (a, SOUP_WEBSOCKET_CLOSE_TOO_BIG);
  client_expect_hangup (b, CALL_1, "disconnected");
  client_sync_nothing_else (b);
}

/* Far past the limit, the same answer: `too-large` and close 1009 (libsoup
 * dropped such a socket without either). */
static void
test_too_large_beyond_limit (Fixture       *f,
                             gconstpointer  data)
{
  Client *a = client_new_registered (f, "1001");
  Client *b = client_new_registered (f, "1002");
  g_autofree char *huge = padded_message ("{\"type\":\"peers\"", 4 * PL_PROTOCOL_MAX_FRAME);

  start_call (a, b, CALL_1);
  client_send (a, huge);
  client_expect_error (a, "too-large", "peers", NULL);
  client_expect_closed (a, PL_WS_CLOSE_TOO_BIG);
  client_expect_hangup (b, CALL_1, "disconnected");
  client_new_registered (f, "1001");
}

static void
test_rate_limited (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(PlMessage) peers = NULL;
  Client *a;
  gboolean refilled = FALSE;

  /* One message a second, four at once: the registration takes one. */
  pl_server_set_rate_limit (f->server, 1);
  pl_server_set_rate_burst (f->server, 4);
  a = client_new_registered (f, "1001");

  for (guint i = 0; i < 10; i++)
    client_sendf (a, "{\"type\":\"peers\",\"call_id\":\"req-%u-xxxxxxxx\"}", i);

  /* Three answers, one rate-limited for the fourth, nothing for the rest. */
  for (guint i = 0; i < 3; i++) {
    g_autoptr(PlMessage) answer = client_expect (a, PL_MESSAGE_PEERS);
  }
  client_expect_error (a, "rate-limited", "peers", "req-3-xxxxxxxx");

  /* The bucket refills with time; that is what is under test. */
  g_timeout_add (1500, on_timer_timeout, &refilled);
  WAIT_UNTIL (refilled);

  /* One token: the first passes. The second is dropped, and the error is
   * sent again as the last one is over a second old. The answers are the
   * next messages: the six dropped earlier were never answered. */
  client_send (a, "{\"type\":\"peers\"}");
  client_send (a, "{\"type\":\"peers\"}");
  peers = client_expect (a, PL_MESSAGE_PEERS);
  client_expect_error (a, "rate-limited", "peers", NULL);
}

/* PlSignalingClient, the phones' end: what it sends is paced under the
 * server's default limit, so that a burst larger than the server's bucket
 * (a fast group dial and hang-up, or many of them) loses nothing. */

#define PACED_MESSAGES 600

typedef struct {
  guint peers;
  guint errors;
} PacedCounts;

static void
on_paced_message (PlSignalingClient *client,
                  PlMessage         *msg,
                  gpointer           user_data)
{
  PacedCounts *counts = user_data;

  if (msg->type == PL_MESSAGE_PEERS)
    counts->peers++;
  else if (msg->type == PL_MESSAGE_ERROR)
    counts->errors++;
}

static void
paced_registered_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  gboolean *registered = user_data;
  g_autoptr(GError) error = NULL;

  pl_signaling_client_register_finish (PL_SIGNALING_CLIENT (source), result, &error);
  g_assert_no_error (error);
  *registered = TRUE;
}

static void
test_client_paced (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(PlSignalingClient) client = NULL;
  g_autoptr(PlMessage) peers = pl_message_new (PL_MESSAGE_PEERS);
  g_autofree char *url = NULL;
  PacedCounts counts = { 0, 0 };
  gboolean registered = FALSE;

  g_assert_cmpuint (pl_server_get_rate_burst (f->server), <, PACED_MESSAGES);

  url = g_strdup_printf ("ws://127.0.0.1:%u/ws", pl_server_get_port (f->server));
  client = pl_signaling_client_new (url, NULL);
  g_signal_connect (client, "message", G_CALLBACK (on_paced_message), &counts);
  pl_signaling_client_register_async (client, "1001", NULL, paced_registered_cb, &registered);
  WAIT_UNTIL (registered);

  /* All at once: more than the server's bucket holds. The server reads
   * nothing until the loop returns (one main loop), so what the client lets
   * out meanwhile arrives bunched up: under valgrind the loop takes about a
   * second, the client's clock refills its bucket, and with the burst of 360
   * the server read 435 to 595 messages at once. */
  for (guint i = 0; i < PACED_MESSAGES; i++)
    g_assert_true (pl_signaling_client_send (client, peers));
  g_assert_cmpuint (pl_signaling_client_get_queued (client), >, 0);

  /* Every one answered, none dropped (a drop brings a `rate-limited`). */
  WAIT_UNTIL (counts.peers == PACED_MESSAGES || counts.errors > 0);
  g_assert_cmpuint (counts.errors, ==, 0);
  g_assert_cmpuint (counts.peers, ==, PACED_MESSAGES);
  g_assert_cmpuint (pl_signaling_client_get_queued (client), ==, 0);
}

static void
test_rate_limit_default (Fixture       *f,
                         gconstpointer  data)
{
  g_assert_cmpuint (pl_server_get_rate_limit (f->server), ==, 200);
  g_assert_cmpuint (pl_server_get_rate_burst (f->server), ==, 400);
  g_assert_cmpuint (pl_server_get_keepalive_interval (f->server), ==, 10);
  g_assert_cmpuint (pl_server_get_idle_timeout (f->server), ==, 30);
}

static void
test_origin (Fixture       *f,
             gconstpointer  data)
{
  const char * const origins[] = { "https://phone.example", "http://127.0.0.1:8080", NULL };
  Client *evil;
  Client *good;
  Client *no_origin;

  pl_server_set_allowed_origins (f->server, origins);

  evil = client_try_connect (f, pl_server_get_port (f->server), "https://evil.example");
  g_assert_nonnull (evil->connect_error);
  g_assert_null (evil->ws);
  g_assert_cmpuint (soup_message_get_status (evil->msg), ==, SOUP_STATUS_FORBIDDEN);

  good = client_try_connect (f, pl_server_get_port (f->server), "https://phone.example");
  g_assert_no_error (good->connect_error);
  client_register (good, "1001");

  /* Phones that are not browsers send no Origin. */
  no_origin = client_try_connect (f, pl_server_get_port (f->server), NULL);
  g_assert_no_error (no_origin->connect_error);
  client_register (no_origin, "1002");
}

static void
test_shutdown (Fixture       *f,
               gconstpointer  data)
{
  Client *a = client_new_registered (f, "1001");
  Client *b = client_new_registered (f, "1002");
  Client *c = client_new_registered (f, "1003");
  Client *late;

  start_call (a, b, CALL_1);
  pl_server_shutdown (f->server);

  client_expect_hangup (a, CALL_1, "disconnected");
  client_expect_hangup (b, CALL_1, "disconnected");
  client_expect_closed (a, SOUP_WEBSOCKET_CLOSE_GOING_AWAY);
  client_expect_closed (b, SOUP_WEBSOCKET_CLOSE_GOING_AWAY);
  client_expect_closed (c, SOUP_WEBSOCKET_CLOSE_GOING_AWAY);
  WAIT_UNTIL (pl_server_get_n_connections (f->server) == 0);
  g_assert_cmpuint (pl_server_get_n_calls (f->server), ==, 0);

  /* It no longer listens. */
  late = client_try_connect (f, pl_server_get_port (f->server), NULL);
  g_assert_nonnull (late->connect_error);

  pl_server_shutdown (f->server);
}

static void
test_listen_errors (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(PlServer) other = pl_server_new ();
  g_autoptr(PlServer) bad = pl_server_new ();
  g_autoptr(GError) error = NULL;

  g_assert_false (pl_server_listen (other, "127.0.0.1", pl_server_get_port (f->server), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE);
  g_clear_error (&error);

  g_assert_false (pl_server_listen (bad, "localhost.invalid", 0, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

/* the partyline-server program */

static void
test_binary_bad_options (Fixture       *f,
                         gconstpointer  data)
{
  const char *cases[][3] = {
    { "--bogus", NULL, NULL },
    { "--listen", "nonsense", NULL },
    { "--listen", "127.0.0.1", NULL },
    { "--listen", "127.0.0.1:65536", NULL },
    { "--listen", "127.0.0.1:-1", NULL },
    { "--listen", "localhost:8443", NULL },
    { "--listen", "::1:8443", NULL },
    { "--listen", "[::1]8443", NULL },
    { "--rate-limit", "-5", NULL },
    { "--rate-limit", "lots", NULL },
    { "--rate-burst", "0", NULL },
    { "--allow-origin", "", NULL },
    { "unexpected", NULL, NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    ServerProcess *sp = server_process_spawn (f, cases[i][0], cases[i][1], cases[i][2], NULL);

    g_assert_cmpint (server_process_wait_exit (sp), ==, 2);
    g_assert_cmpuint (sp->lines->len, ==, 1);
    g_assert_true (g_str_has_prefix (g_ptr_array_index (sp->lines, 0), "partyline-server: "));
    g_clear_pointer (&f->process, server_process_free);
  }
}

static void
test_binary_address_in_use (Fixture       *f,
                            gconstpointer  data)
{
  g_autofree char *listen = g_strdup_printf ("127.0.0.1:%u", pl_server_get_port (f->server));
  ServerProcess *sp = server_process_spawn (f, "--listen", listen, NULL);

  g_assert_cmpint (server_process_wait_exit (sp), ==, 3);
  g_assert_cmpuint (sp->lines->len, ==, 1);
  g_assert_cmpuint (count_lines_with (sp->lines, "listening on"), ==, 0);
}

static void
test_binary_version (Fixture       *f,
                     gconstpointer  data)
{
  const char *argv[] = { server_binary (), "--version", NULL };
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;

  process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 0);
  g_assert_cmpstr (out, ==, "partyline-server " PACKAGE_VERSION "\n");
}

static void
test_binary_run (Fixture       *f,
                 gconstpointer  data)
{
  ServerProcess *sp = server_process_spawn (f, "--listen", "127.0.0.1:0", "--token", "t0k", NULL);
  g_autoptr(PlMessage) registered_a = NULL;
  g_autoptr(PlMessage) registered_b = NULL;
  g_autoptr(PlMessage) call = NULL;
  g_autofree char *dialing = NULL;
  Client *a;
  Client *b;

  WAIT_UNTIL (sp->port != 0 || sp->exited);
  g_assert_cmpuint (sp->port, !=, 0);

  a = client_try_connect (f, sp->port, NULL);
  g_assert_no_error (a->connect_error);
  b = client_try_connect (f, sp->port, NULL);
  g_assert_no_error (b->connect_error);
  a->number = g_strdup ("1001");
  b->number = g_strdup ("1002");

  client_send (a, "{\"type\":\"register\",\"number\":\"1001\"}");
  client_expect_error (a, "unauthorized", "register", NULL);
  client_send (a, "{\"type\":\"register\",\"number\":\"1001\",\"token\":\"t0k\"}");
  registered_a = client_expect (a, PL_MESSAGE_REGISTERED);
  client_send (b, "{\"type\":\"register\",\"number\":\"1002\",\"token\":\"t0k\"}");
  registered_b = client_expect (b, PL_MESSAGE_REGISTERED);

  client_sendf (a, "{\"type\":\"call\",\"call_id\":\"%s\",\"to\":\"1002\",\"sdp\":\"v=0\"}", CALL_1);
  call = client_expect (b, PL_MESSAGE_CALL);
  g_assert_cmpstr (call->from, ==, "1001");

  g_subprocess_send_signal (sp->process, SIGTERM);
  client_expect_hangup (a, CALL_1, "disconnected");
  client_expect_hangup (b, CALL_1, "disconnected");
  client_expect_closed (a, SOUP_WEBSOCKET_CLOSE_GOING_AWAY);
  client_expect_closed (b, SOUP_WEBSOCKET_CLOSE_GOING_AWAY);
  g_assert_cmpint (server_process_wait_exit (sp), ==, 0);

  /* Logs: exactly one listening line, then one line per event. */
  g_assert_cmpuint (count_lines_with (sp->lines, "listening on ws://127.0.0.1:"), ==, 1);
  g_assert_cmpuint (count_lines_with (sp->lines, "connection 1 opened from 127.0.0.1:"), ==, 1);
  g_assert_cmpuint (count_lines_with (sp->lines, "connection 2 registered 1002"), ==, 1);
  dialing = g_strdup_printf ("call %s 1001 -> 1002 dialing", CALL_1);
  g_assert_cmpuint (count_lines_with (sp->lines, dialing), ==, 1);
}

/* --- issue 9: bounds on what a client can make the server hold ----------- */

static GByteArray *
filled (const char *head,
        gsize       total,
        char        fill)
{
  GByteArray *bytes = g_byte_array_sized_new (total);

  g_byte_array_append (bytes, (const guint8 *) head, strlen (head));
  g_byte_array_set_size (bytes, total);
  memset (bytes->data + strlen (head), fill, total - strlen (head));

  return bytes;
}

static void
raw_client_register (RawClient  *raw,
                     const char *number)
{
  g_autofree char *text = g_strdup_printf ("{\"type\":\"register\",\"number\":\"%s\"}", number);
  g_autofree char *answer = NULL;

  raw_client_send_text (raw, text);
  answer = raw_client_next (raw);
  g_assert_nonnull (strstr (answer, "\"registered\""));
}

static void
assert_raw_error (RawClient  *raw,
                  const char *code,
                  const char *ref,
                  const char *call_id)
{
  g_autofree char *text = raw_client_next (raw);
  g_autoptr(JsonNode) node = json_from_string (text, NULL);
  JsonObject *object = json_node_get_object (node);

  g_assert_cmpstr (json_object_get_string_member (object, "type"), ==, "error");
  g_assert_cmpstr (json_object_get_string_member (object, "code"), ==, code);
  g_assert_cmpstr (json_object_get_string_member_with_default (object, "ref", NULL), ==, ref);
  g_assert_cmpstr (json_object_get_string_member_with_default (object, "call_id", NULL), ==, call_id);
}

/* The limit is on the message, not the frame: a fragmented message is
 * refused at the fragment that passes it, before the rest is sent. */
static void
test_too_large_fragments (Fixture       *f,
                          gconstpointer  data)
{
  Client *b = client_new_registered (f, "1002");
  RawClient *a = raw_client_connect (f);
  g_autoptr(GByteArray) first = filled ("{\"type\":\"ice\",\"call_id\":\"" CALL_1 "\","
                                        "\"sdp_mline_index\":0,\"candidate\":\"", 40000, 'x');
  g_autoptr(GByteArray) more = filled ("", 40000, 'x');
  g_autofree char *call = NULL;

  raw_client_register (a, "1001");
  call = g_strdup_printf ("{\"type\":\"call\",\"call_id\":\"%s\",\"to\":\"1002\",\"sdp\":\"%s\"}",
                          CALL_1, SDP_OFFER);
  raw_client_send_text (a, call);
  g_free (client_next (b));

  raw_client_send_frame (a, 0x1, FALSE, first->data, first->len);
  raw_client_send_frame (a, 0x0, FALSE, more->data, more->len);
  /* 80,000 bytes so far: answered now, with what the first bytes said. */
  assert_raw_error (a, "too-large", "ice", CALL_1);
  WAIT_UNTIL (a->got_close);
  g_assert_cmpuint (a->close_code, ==, 1009);

  /* The rest of a 30 MiB message is read and dropped, never held. */
  for (guint i = 0; i < 30 * 1024 * 1024 / more->len; i++)
    raw_client_send_frame (a, 0x0, FALSE, more->data, more->len);
  raw_client_send_frame (a, 0x8, TRUE, (const guint8 *) "\x03\xe9", 2);
  WAIT_UNTIL (a->eof);
  client_expect_hangup (b, CALL_1, "disconnected");
  client_sync_nothing_else (b);
}

/* 100,000 levels of nesting in four 50 KB fragments, before registering:
 * this crashed the server (json-glib's parser recursing). */
static void
test_depth_bomb (Fixture       *f,
                 gconstpointer  data)
{
  RawClient *a = raw_client_connect (f);
  RawClient *c = raw_client_connect (f);
  g_autoptr(GByteArray) deep = filled ("{\"type\":\"peers\",\"x\":", 200000, '[');
  g_autoptr(GByteArray) small = filled ("{\"type\":\"peers\",\"x\":", 60000, '[');

  for (guint i = 0; i < 4; i++)
    raw_client_send_frame (a, i == 0 ? 0x1 : 0x0, i == 3, deep->data + i * 50000, 50000);
  assert_raw_error (a, "too-large", "peers", NULL);
  WAIT_UNTIL (a->got_close);
  g_assert_cmpuint (a->close_code, ==, 1009);

  /* Within the size limit, the depth limit answers. */
  raw_client_send_frame (c, 0x1, TRUE, small->data, small->len);
  assert_raw_error (c, "bad-request", NULL, NULL);
  raw_client_register (c, "1003");

  client_new_registered (f, "1001");
}

/* One frame far over the limit: `too-large` and close 1009, as for one just
 * over it, and the socket is closed only after the close handshake (no
 * reset; a reset would lose the close frame). */
static void
test_too_large_one_frame (Fixture       *f,
                          gconstpointer  data)
{
  RawClient *a = raw_client_connect (f);
  g_autoptr(GByteArray) huge = filled ("{\"type\":\"peers\",\"pad\":\"", 200 * 1024, 'x');

  raw_client_register (a, "1001");
  raw_client_send_frame (a, 0x1, TRUE, huge->data, huge->len);
  assert_raw_error (a, "too-large", "peers", NULL);
  WAIT_UNTIL (a->got_close);
  g_assert_cmpuint (a->close_code, ==, 1009);
  raw_client_send_frame (a, 0x8, TRUE, (const guint8 *) "\x03\xf1", 2);
  WAIT_UNTIL (a->eof);
}

static void
test_handshake_timeout (Fixture       *f,
                        gconstpointer  data)
{
  RawClient *silent[50];
  RawClient *late;
  Client *phone;

  g_object_set (f->server, "handshake-timeout", 1, "register-timeout", 0, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (silent); i++) {
    silent[i] = raw_client_connect_tcp (f, NULL);
    raw_client_read (silent[i]);
  }
  phone = client_new_registered (f, "1001");

  for (guint i = 0; i < G_N_ELEMENTS (silent); i++)
    WAIT_UNTIL (silent[i]->eof);
  g_assert_false (silent[0]->handshake_done);

  /* A handshake in time is not cut, nor what follows it, even once the
   * deadline of its connection has passed. */
  late = raw_client_connect (f);
  raw_client_register (late, "1002");
  client_sync_nothing_else (phone);
  g_assert_false (phone->closed);
}

static void
test_register_timeout (Fixture       *f,
                       gconstpointer  data)
{
  Client *registered;
  Client *idle;
  Client *refused;

  g_object_set (f->server, "register-timeout", 1, NULL);
  registered = client_new_registered (f, "1001");
  idle = client_connect (f);
  /* Refused registrations do not count. */
  refused = client_connect (f);
  client_send (refused, "{\"type\":\"register\",\"number\":\"1001\"}");
  client_expect_error (refused, "number-taken", "register", NULL);

  client_expect_closed (idle, PL_WS_CLOSE_POLICY_VIOLATION);
  client_expect_closed (refused, PL_WS_CLOSE_POLICY_VIOLATION);
  g_assert_false (registered->closed);
  client_sync_nothing_else (registered);
}

static void
test_max_connections (Fixture       *f,
                      gconstpointer  data)
{
  RawClient *fourth;
  Client *clients[3];

  g_object_set (f->server, "max-connections", 3, NULL);
  for (guint i = 0; i < 3; i++)
    clients[i] = client_connect (f);

  fourth = raw_client_connect_tcp (f, NULL);
  g_assert_false (raw_client_try_handshake (f, fourth));
  g_assert_true (fourth->refused);

  client_close (clients[0]);
  WAIT_UNTIL (pl_server_get_n_connections (f->server) == 2);
  client_connect (f);
}

static void
test_max_connections_per_address (Fixture       *f,
                                  gconstpointer  data)
{
  RawClient *third;
  RawClient *other;

  g_object_set (f->server, "max-connections-per-address", 2, NULL);
  client_connect (f);
  raw_client_connect (f);

  third = raw_client_connect_tcp (f, "127.0.0.1");
  g_assert_false (raw_client_try_handshake (f, third));
  g_assert_true (third->refused);

  other = raw_client_connect_tcp (f, "127.0.0.2");
  g_assert_true (raw_client_try_handshake (f, other));
  raw_client_register (other, "1002");
}

/* 200 connections at once while the server is busy: the kernel completes
 * every one of them (the backlog was 10, and most waited for a SYN resend,
 * 1 s or more). */
static void
test_listen_backlog (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address =
    g_inet_socket_address_new (loopback, pl_server_get_port (f->server));
  GSocket *sockets[200];
  gint64 deadline;
  guint connected = 0;

  /* The main context does not run here: nothing is accepted meanwhile. */
  for (guint i = 0; i < G_N_ELEMENTS (sockets); i++) {
    g_autoptr(GError) error = NULL;

    sockets[i] = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                               G_SOCKET_PROTOCOL_TCP, &error);
    g_assert_no_error (error);
    g_socket_set_blocking (sockets[i], FALSE);
    if (!g_socket_connect (sockets[i], address, NULL, &error))
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PENDING);
  }

  /* On loopback a completed connect takes microseconds; a dropped SYN is
   * sent again after one second. */
  deadline = g_get_monotonic_time () + 500 * G_TIME_SPAN_MILLISECOND;
  for (guint i = 0; i < G_N_ELEMENTS (sockets); i++) {
    gint64 left = MAX (deadline - g_get_monotonic_time (), 0);

    g_socket_set_timeout (sockets[i], 0);
    if (g_socket_condition_timed_wait (sockets[i], G_IO_OUT, left, NULL, NULL) &&
        g_socket_check_connect_result (sockets[i], NULL))
      connected++;
  }
  g_assert_cmpuint (connected, ==, G_N_ELEMENTS (sockets));

  for (guint i = 0; i < G_N_ELEMENTS (sockets); i++) {
    g_socket_close (sockets[i], NULL);
    g_object_unref (sockets[i]);
  }
  /* They all count until libsoup has seen them close. */
  g_object_set (f->server, "max-connections", 0, NULL);
  client_new_registered (f, "1001");
}

/* A phone that stops reading while the other party floods it: dropped once
 * what waits for it passes the bound, and the call ends. */
static void
test_not_reading (Fixture       *f,
                  gconstpointer  data)
{
  Client *a = client_new_registered (f, "1001");
  RawClient *v = raw_client_connect (f);
  g_autoptr(GByteArray) pad = filled ("", 60000, 'c');
  g_autoptr(GString) ice = g_string_new (NULL);
  g_autofree char *call = NULL;
  gsize sent = 0;

  pl_server_set_rate_limit (f->server, 0);
  g_object_set (f->server, "max-send-queue", 256 * 1024, NULL);
  raw_client_register (v, "1002");
  call = g_strdup_printf ("{\"type\":\"call\",\"call_id\":\"%s\",\"to\":\"1002\",\"sdp\":\"%s\"}",
                          CALL_1, SDP_OFFER);
  client_send (a, call);
  g_free (raw_client_next (v));

  /* v reads nothing from now on. */
  g_cancellable_cancel (v->cancellable);
  WAIT_UNTIL (!v->reading);

  g_string_printf (ice, "{\"type\":\"ice\",\"call_id\":\"%s\",\"sdp_mline_index\":0,"
                   "\"candidate\":\"%.*s\"}", CALL_1, (int) pad->len, (const char *) pad->data);
  /* The kernel's buffers take a few MiB first; 64 MiB is far past them. */
  while (sent < 64 * 1024 * 1024 && g_queue_is_empty (&a->messages)) {
    client_send (a, ice->str);
    sent += ice->len;
    /* Let the server read and forward as it goes. */
    while (g_main_context_iteration (NULL, FALSE))
      ;
  }
  g_test_message ("v dropped after %" G_GSIZE_FORMAT " bytes were sent to it", sent);
  client_expect_hangup (a, CALL_1, "disconnected");
  g_assert_cmpuint (sent, <, 64 * 1024 * 1024);
  WAIT_UNTIL (pl_server_get_n_connections (f->server) == 1);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  /* PlSignalingClient's session asks the default proxy resolver, which
   * would read GSettings; the isolated directories have no schemas. */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);

#define ADD(path, func) \
  g_test_add ("/partyline/server/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)

  ADD ("register", test_register);
  ADD ("register/bad-request", test_register_bad_request);
  ADD ("register/number-taken", test_register_number_taken);
  ADD ("register/unauthorized", test_register_unauthorized);
  ADD ("register/unauthorized-close", test_register_unauthorized_close);
  ADD ("not-registered", test_not_registered);
  ADD ("check-order", test_check_order);
  ADD ("call/flow", test_call_flow);
  ADD ("call/rejected", test_call_rejected);
  ADD ("call/not-found", test_call_not_found);
  ADD ("call/bad-request", test_call_bad_request);
  ADD ("call/busy", test_call_busy);
  ADD ("call/callee-only", test_call_callee_only);
  ADD ("call/unknown-call", test_call_unknown_call);
  ADD ("call/ordering", test_call_ordering);
  ADD ("disconnect/close", test_disconnect_close);
  ADD ("disconnect/abrupt", test_disconnect_abrupt);
  ADD ("disconnect/ping-timeout", test_disconnect_ping_timeout);
  ADD ("peers", test_peers);
  ADD ("too-large", test_too_large);
  ADD ("too-large/beyond-limit", test_too_large_beyond_limit);
  ADD ("too-large/fragments", test_too_large_fragments);
  ADD ("too-large/one-frame", test_too_large_one_frame);
  ADD ("depth-bomb", test_depth_bomb);
  ADD ("limits/handshake-timeout", test_handshake_timeout);
  ADD ("limits/register-timeout", test_register_timeout);
  ADD ("limits/max-connections", test_max_connections);
  ADD ("limits/max-connections-per-address", test_max_connections_per_address);
  ADD ("limits/listen-backlog", test_listen_backlog);
  ADD ("limits/not-reading", test_not_reading);
  ADD ("rate-limited", test_rate_limited);
  ADD ("defaults", test_rate_limit_default);
  ADD ("client/paced", test_client_paced);
  ADD ("origin", test_origin);
  ADD ("shutdown", test_shutdown);
  ADD ("listen-errors", test_listen_errors);
  ADD ("binary/bad-options", test_binary_bad_options);
  ADD ("binary/address-in-use", test_binary_address_in_use);
  ADD ("binary/version", test_binary_version);
  ADD ("binary/run", test_binary_run);

#undef ADD

  return g_test_run ();
}
