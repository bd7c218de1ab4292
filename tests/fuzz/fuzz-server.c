/* fuzz-server.c — the signaling server fed arbitrary frames
 *
 * One PlServer on 127.0.0.1 for the whole run, with a phone registered as
 * 1002 that reads and drops everything (so that calls to it are routed).
 * Each input is one new connection: the WebSocket handshake, then the
 * frames the input describes, then the end of the stream; the input is done
 * when the server has closed that connection. The server's state carries
 * over from input to input, as it would in a server that runs for months.
 *
 * An input is a list of chunks, each
 *
 *   byte 0     bits 0-3 the opcode, bit 4 FIN, bit 5 "raw" (the payload is
 *              sent as it is, not framed), bit 6 "unmasked"
 *   bytes 1-2  the payload's length, big-endian (cut to what is left)
 *   then       the payload
 *
 * so that the fuzzer builds real frames (masked, as a client must) and still
 * reaches everything else.
 *
 * Copyright 2026 The Partyline authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "pl-fuzz.h"
#include "pl-server.h"

#include <gio/gio.h>

#include <string.h>

#define REQUEST \
  "GET /ws HTTP/1.1\r\n" \
  "Host: 127.0.0.1\r\n" \
  "Upgrade: websocket\r\n" \
  "Connection: Upgrade\r\n" \
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" \
  "Sec-WebSocket-Version: 13\r\n" \
  "\r\n"

/* A client of ours: a socket, what it has read, and whether it ended. */
typedef struct {
  GSocketConnection *conn;
  GSource           *source;
  GString           *head;     /* the first bytes read, to see "registered" */
  gboolean           eof;
} Peer;

static PlServer *server;

/* A connection's messages are logged; thousands a second are noise. What
 * is worse than a message still goes out (and is fatal: pl_fuzz_init ()). */
static GLogWriterOutput
quiet_writer (GLogLevelFlags   log_level,
              const GLogField *fields,
              gsize            n_fields,
              gpointer         user_data)
{
  if (log_level & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO | G_LOG_LEVEL_DEBUG))
    return G_LOG_WRITER_HANDLED;

  return g_log_writer_default (log_level, fields, n_fields, user_data);
}
static Peer      registered_peer;

static gboolean
on_peer_readable (GSocket      *socket,
                  GIOCondition  condition,
                  gpointer      user_data)
{
  Peer *peer = user_data;
  char buffer[16384];
  gssize n = g_socket_receive (socket, buffer, sizeof buffer, NULL, NULL);

  if (n <= 0) {
    peer->eof = TRUE;
    peer->source = NULL;
    return G_SOURCE_REMOVE;
  }
  if (peer->head->len < 4096)
    g_string_append_len (peer->head, buffer, MIN ((gsize) n, 4096 - peer->head->len));

  return G_SOURCE_CONTINUE;
}

static void
on_written (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  gboolean *done = user_data;

  /* The server may have closed first: that is a result, not a failure. */
  g_output_stream_write_all_finish (G_OUTPUT_STREAM (object), result, NULL, NULL);
  *done = TRUE;
}

static void
peer_connect (Peer *peer)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketAddress) address =
    g_inet_socket_address_new_from_string ("127.0.0.1", pl_server_get_port (server));
  g_autoptr(GError) error = NULL;
  GSocket *socket;

  g_socket_client_set_enable_proxy (client, FALSE);
  /* The kernel completes the connection; the server accepts it later. */
  peer->conn = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (address), NULL, &error);
  g_assert_no_error (error);
  peer->head = g_string_new (NULL);
  peer->eof = FALSE;

  socket = g_socket_connection_get_socket (peer->conn);
  g_socket_set_blocking (socket, FALSE);
  peer->source = g_socket_create_source (socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_callback (peer->source, (GSourceFunc) (void (*) (void)) on_peer_readable, peer,
                         NULL);
  g_source_attach (peer->source, NULL);
  g_source_unref (peer->source);
}

static void
peer_write (Peer         *peer,
            const guint8 *data,
            gsize         length)
{
  gboolean done = FALSE;

  g_output_stream_write_all_async (g_io_stream_get_output_stream (G_IO_STREAM (peer->conn)),
                                   data, length, G_PRIORITY_DEFAULT, NULL, on_written, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

static void
append_frame (GByteArray   *out,
              guint8        flags,
              const guint8 *payload,
              gsize         length)
{
  static const guint8 mask[4] = { 0x37, 0xfa, 0x21, 0x3d };
  gboolean masked = !(flags & 0x40);
  guint8 header[14];
  gsize header_len = 2;
  gsize start;

  if (flags & 0x20) {
    g_byte_array_append (out, payload, length);
    return;
  }

  header[0] = (flags & 0x10 ? 0x80 : 0) | (flags & 0x0f);
  if (length < 126) {
    header[1] = length;
  } else {
    header[1] = 126;
    header[2] = length >> 8;
    header[3] = length & 0xff;
    header_len = 4;
  }
  if (masked) {
    header[1] |= 0x80;
    memcpy (header + header_len, mask, 4);
    header_len += 4;
  }
  g_byte_array_append (out, header, header_len);
  start = out->len;
  g_byte_array_append (out, payload, length);
  if (masked) {
    for (gsize i = 0; i < length; i++)
      out->data[start + i] ^= mask[i & 3];
  }
}

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  static const char registration[] = "{\"type\":\"register\",\"number\":\"1002\"}";
  g_autoptr(GByteArray) bytes = g_byte_array_new ();
  g_autoptr(GError) error = NULL;

  pl_fuzz_init ();
  g_log_set_writer_func (quiet_writer, NULL, NULL);

  server = pl_server_new ();
  /* Every message of an input is handled, none dropped by the limit; and
   * the registered phone, which answers no ping, is never taken for gone
   * (the run lasts longer than the idle timeout). */
  pl_server_set_rate_limit (server, 0);
  pl_server_set_keepalive_interval (server, 0);
  pl_server_set_idle_timeout (server, 0);
  pl_server_listen (server, "127.0.0.1", 0, &error);
  g_assert_no_error (error);

  peer_connect (&registered_peer);
  g_byte_array_append (bytes, (const guint8 *) REQUEST, strlen (REQUEST));
  append_frame (bytes, 0x10 | 0x1, (const guint8 *) registration, strlen (registration));
  peer_write (&registered_peer, bytes->data, bytes->len);
  while (strstr (registered_peer.head->str, "\"registered\"") == NULL) {
    g_assert_false (registered_peer.eof);
    g_main_context_iteration (NULL, TRUE);
  }

  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GByteArray) bytes = g_byte_array_new ();
  Peer peer = { 0 };
  gsize pos = 0;

  g_byte_array_append (bytes, (const guint8 *) REQUEST, strlen (REQUEST));
  while (pos + 3 <= size) {
    guint8 flags = data[pos];
    gsize length = MIN ((gsize) ((data[pos + 1] << 8) | data[pos + 2]), size - pos - 3);

    append_frame (bytes, flags, data + pos + 3, length);
    pos += 3 + length;
  }

  peer_connect (&peer);
  peer_write (&peer, bytes->data, bytes->len);
  /* The end of the stream: the server closes the connection, whatever
   * state the frames left it in. */
  g_socket_shutdown (g_socket_connection_get_socket (peer.conn), FALSE, TRUE, NULL);
  while (!peer.eof || pl_server_get_n_connections (server) > 1)
    g_main_context_iteration (NULL, TRUE);

  g_assert_false (registered_peer.eof);
  g_io_stream_close (G_IO_STREAM (peer.conn), NULL, NULL);
  g_clear_object (&peer.conn);
  g_string_free (peer.head, TRUE);

  return 0;
}
