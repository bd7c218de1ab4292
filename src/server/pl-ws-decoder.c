/* pl-ws-decoder.c — a bounded decoder of the frames a WebSocket client sends
 *
 * Copyright 2026 The Partyline authors
 *
 * Why not libsoup's: libsoup 3.2 (Debian 12) limits each frame, not the
 * message reassembled from fragments, so a client could make the server
 * buffer any amount; and past its limit it drops the socket with unread
 * data in it, which the client sees as a TCP reset instead of the
 * protocol's `too-large` and close 1009.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "pl-ws-decoder"

#include "config.h"

#include "pl-ws-decoder.h"

#include <string.h>

#define MAX_HEADER       14   /* 2 + 8 (64-bit length) + 4 (mask) */
#define MAX_CONTROL      125  /* RFC 6455, 5.5 */

typedef enum {
  STATE_HEADER,
  STATE_PAYLOAD,
  STATE_SKIP,
  STATE_DEAD,
} State;

struct _PlWsDecoder
{
  gsize       max_message;
  State       state;

  guint8      header[MAX_HEADER];
  gsize       header_len;

  /* The frame being read. */
  gboolean    fin;
  guint8      opcode;
  guint8      mask[4];
  guint64     payload_len;
  guint64     payload_done;   /* unmasked so far, for the mask offset */
  guint64     keep;           /* how much of the payload is kept */
  gboolean    oversized;      /* the message passes the limit with this frame */

  /* The message being reassembled: its first frame's opcode, its data. */
  guint8      message_opcode; /* 0 while no message is open */
  GByteArray *message;
  guint8      control[MAX_CONTROL];
  guint64     skip;           /* bytes of an oversized frame still to skip */
};

PlWsDecoder *
pl_ws_decoder_new (gsize max_message)
{
  PlWsDecoder *decoder = g_new0 (PlWsDecoder, 1);

  decoder->max_message = max_message;

  return decoder;
}

void
pl_ws_decoder_free (PlWsDecoder *decoder)
{
  if (decoder == NULL)
    return;

  g_clear_pointer (&decoder->message, g_byte_array_unref);
  g_free (decoder);
}

gsize
pl_ws_decoder_get_buffered (PlWsDecoder *decoder)
{
  return decoder->header_len + (decoder->message != NULL ? decoder->message->len : 0);
}

static void
fail (PlWsDecoder *decoder,
      PlWsEvent   *event,
      gushort      code,
      const char  *message)
{
  decoder->state = STATE_DEAD;
  g_clear_pointer (&decoder->message, g_byte_array_unref);
  event->type = PL_WS_EVENT_ERROR;
  event->code = code;
  event->message = message;
}

static gboolean
is_control (guint8 opcode)
{
  return (opcode & 0x8) != 0;
}

/* Close codes a peer may send (RFC 6455, 7.4). */
static gboolean
close_code_is_valid (guint code)
{
  if (code >= 3000 && code <= 4999)
    return TRUE;

  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011);
}

/* The header is complete: check it, and decide what to keep. */
static void
start_payload (PlWsDecoder *decoder,
               PlWsEvent   *event)
{
  guint64 message_len = decoder->message != NULL ? decoder->message->len : 0;

  if (decoder->header[0] & 0x70) {
    fail (decoder, event, PL_WS_CLOSE_PROTOCOL_ERROR,
          "reserved bits set in a frame: no extension was negotiated");
    return;
  }

  switch (decoder->opcode) {
  case PL_WS_OPCODE_CONTINUATION:
    if (decoder->message_opcode == 0) {
      fail (decoder, event, PL_WS_CLOSE_PROTOCOL_ERROR, "a continuation frame without a message");
      return;
    }
    break;

  case PL_WS_OPCODE_TEXT:
  case PL_WS_OPCODE_BINARY:
    if (decoder->message_opcode != 0) {
      fail (decoder, event, PL_WS_CLOSE_PROTOCOL_ERROR,
            "a new message inside a fragmented one");
      return;
    }
    decoder->message_opcode = decoder->opcode;
    message_len = 0;
    break;

  case PL_WS_OPCODE_CLOSE:
  case PL_WS_OPCODE_PING:
  case PL_WS_OPCODE_PONG:
    if (!decoder->fin || decoder->payload_len > MAX_CONTROL) {
      fail (decoder, event, PL_WS_CLOSE_PROTOCOL_ERROR,
            "a control frame must be whole and at most 125 bytes");
      return;
    }
    break;

  default:
    fail (decoder, event, PL_WS_CLOSE_PROTOCOL_ERROR, "unknown frame opcode");
    return;
  }

  decoder->payload_done = 0;
  decoder->keep = decoder->payload_len;
  decoder->oversized = FALSE;

  if (!is_control (decoder->opcode) &&
      decoder->payload_len > decoder->max_message - message_len) {
    /* Keep what fits, to say which message it was; skip the rest unread. */
    decoder->oversized = TRUE;
    decoder->keep = decoder->max_message - message_len;
  }

  if (!is_control (decoder->opcode) && decoder->keep > 0) {
    if (decoder->message == NULL)
      decoder->message = g_byte_array_sized_new (MIN (decoder->keep, 4096));
  }

  decoder->state = STATE_PAYLOAD;
}

/* The payload (or the part of it we keep) is in. */
static void
finish_payload (PlWsDecoder *decoder,
                PlWsEvent   *event)
{
  decoder->state = STATE_HEADER;
  decoder->header_len = 0;

  if (decoder->oversized) {
    event->type = PL_WS_EVENT_TOO_BIG;
    event->data = decoder->message != NULL ? decoder->message->data : NULL;
    event->length = decoder->message != NULL ? decoder->message->len : 0;
    decoder->message_opcode = 0;
    decoder->skip = decoder->payload_len - decoder->keep;
    if (decoder->skip > 0)
      decoder->state = STATE_SKIP;
    /* The message is dropped at the next call: event->data points into it. */
    return;
  }

  switch (decoder->opcode) {
  case PL_WS_OPCODE_PING:
  case PL_WS_OPCODE_PONG:
    event->type = decoder->opcode == PL_WS_OPCODE_PING ? PL_WS_EVENT_PING : PL_WS_EVENT_PONG;
    event->data = decoder->control;
    event->length = decoder->payload_len;
    return;

  case PL_WS_OPCODE_CLOSE:
    if (decoder->payload_len == 1) {
      fail (decoder, event, PL_WS_CLOSE_PROTOCOL_ERROR, "a close frame of one byte");
      return;
    }
    if (decoder->payload_len == 0) {
      event->code = PL_WS_CLOSE_NO_STATUS;
    } else {
      event->code = (decoder->control[0] << 8) | decoder->control[1];
      if (!close_code_is_valid (event->code)) {
        fail (decoder, event, PL_WS_CLOSE_PROTOCOL_ERROR, "an invalid close code");
        return;
      }
      if (!g_utf8_validate ((const char *) decoder->control + 2, decoder->payload_len - 2, NULL)) {
        fail (decoder, event, PL_WS_CLOSE_BAD_DATA, "a close reason that is not UTF-8");
        return;
      }
      event->data = decoder->control + 2;
      event->length = decoder->payload_len - 2;
    }
    event->type = PL_WS_EVENT_CLOSE;
    return;

  default:
    break;
  }

  if (!decoder->fin)
    return;

  /* A whole message. */
  if (decoder->message_opcode == PL_WS_OPCODE_TEXT && decoder->message != NULL &&
      !g_utf8_validate ((const char *) decoder->message->data, decoder->message->len, NULL)) {
    fail (decoder, event, PL_WS_CLOSE_BAD_DATA, "a text message that is not UTF-8");
    return;
  }
  event->type = decoder->message_opcode == PL_WS_OPCODE_TEXT ? PL_WS_EVENT_TEXT
                                                             : PL_WS_EVENT_BINARY;
  event->data = decoder->message != NULL ? decoder->message->data : (const guint8 *) "";
  event->length = decoder->message != NULL ? decoder->message->len : 0;
  decoder->message_opcode = 0;
}

/* How many bytes the header has once its first two are known. */
static gsize
header_size (const guint8 *header)
{
  gsize size = 2;
  guint len7 = header[1] & 0x7F;

  if (len7 == 126)
    size += 2;
  else if (len7 == 127)
    size += 8;
  if (header[1] & 0x80)
    size += 4;

  return size;
}

static void
parse_header (PlWsDecoder *decoder,
              PlWsEvent   *event)
{
  const guint8 *h = decoder->header;
  guint len7 = h[1] & 0x7F;
  gsize pos = 2;

  decoder->fin = (h[0] & 0x80) != 0;
  decoder->opcode = h[0] & 0x0F;

  if (!(h[1] & 0x80)) {
    fail (decoder, event, PL_WS_CLOSE_PROTOCOL_ERROR, "a client must mask its frames");
    return;
  }

  if (len7 == 126) {
    decoder->payload_len = ((guint64) h[2] << 8) | h[3];
    pos = 4;
  } else if (len7 == 127) {
    decoder->payload_len = 0;
    for (guint i = 0; i < 8; i++)
      decoder->payload_len = (decoder->payload_len << 8) | h[2 + i];
    pos = 10;
    if (decoder->payload_len >> 63) {
      fail (decoder, event, PL_WS_CLOSE_PROTOCOL_ERROR, "a frame length over 2^63");
      return;
    }
  } else {
    decoder->payload_len = len7;
  }
  memcpy (decoder->mask, h + pos, 4);

  start_payload (decoder, event);
}

gsize
pl_ws_decoder_feed (PlWsDecoder  *decoder,
                    const guint8 *data,
                    gsize         length,
                    PlWsEvent    *event)
{
  gsize used = 0;

  g_return_val_if_fail (decoder != NULL, length);
  g_return_val_if_fail (data != NULL || length == 0, length);
  g_return_val_if_fail (event != NULL, length);

  memset (event, 0, sizeof *event);

  /* The last event was a message or a refusal: its data goes now. */
  if (decoder->message_opcode == 0 && decoder->message != NULL)
    g_clear_pointer (&decoder->message, g_byte_array_unref);

  while (event->type == PL_WS_EVENT_NONE) {
    switch (decoder->state) {
    case STATE_DEAD:
      return length;

    case STATE_SKIP:
      {
        gsize n = MIN ((guint64) (length - used), decoder->skip);

        used += n;
        decoder->skip -= n;
        if (decoder->skip > 0)
          return used;
        decoder->state = STATE_HEADER;
      }
      break;

    case STATE_HEADER:
      {
        gsize need = decoder->header_len < 2 ? 2 : header_size (decoder->header);

        while (decoder->header_len < need && used < length) {
          decoder->header[decoder->header_len++] = data[used++];
          if (decoder->header_len == 2)
            need = header_size (decoder->header);
        }
        if (decoder->header_len < need)
          return used;

        parse_header (decoder, event);
        if (event->type != PL_WS_EVENT_NONE)
          return length;      /* an error: nothing after it is read */
        if (decoder->keep == 0)
          finish_payload (decoder, event);
      }
      break;

    case STATE_PAYLOAD:
      {
        gsize n = MIN ((guint64) (length - used), decoder->keep - decoder->payload_done);
        guint8 *out;

        if (n == 0)
          return used;

        if (is_control (decoder->opcode)) {
          out = decoder->control + decoder->payload_done;
        } else {
          gsize old = decoder->message->len;

          g_byte_array_set_size (decoder->message, old + n);
          out = decoder->message->data + old;
        }
        for (gsize i = 0; i < n; i++)
          out[i] = data[used + i] ^ decoder->mask[(decoder->payload_done + i) & 3];
        used += n;
        decoder->payload_done += n;

        if (decoder->payload_done == decoder->keep)
          finish_payload (decoder, event);
      }
      break;

    default:
      g_assert_not_reached ();
    }
  }

  return used;
}

GBytes *
pl_ws_encode_frame (guint8        opcode,
                    const guint8 *payload,
                    gsize         length)
{
  GByteArray *frame = g_byte_array_sized_new (length + 10);
  guint8 header[10];
  gsize header_len;

  header[0] = 0x80 | (opcode & 0x0F);
  if (length < 126) {
    header[1] = length;
    header_len = 2;
  } else if (length <= G_MAXUINT16) {
    header[1] = 126;
    header[2] = length >> 8;
    header[3] = length & 0xFF;
    header_len = 4;
  } else {
    header[1] = 127;
    for (guint i = 0; i < 8; i++)
      header[2 + i] = ((guint64) length >> (56 - 8 * i)) & 0xFF;
    header_len = 10;
  }

  g_byte_array_append (frame, header, header_len);
  if (length > 0)
    g_byte_array_append (frame, payload, length);

  return g_byte_array_free_to_bytes (frame);
}
