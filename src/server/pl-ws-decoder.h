/* pl-ws-decoder.h — a bounded decoder of the frames a WebSocket client sends
 *
 * Copyright 2026 The Partyline authors
 *
 * Pure code: bytes in, events out (RFC 6455, section 5), no I/O. It never
 * holds more than one message of at most its limit, and refuses a message
 * as soon as a frame header shows it would pass the limit, whether the
 * message comes as one frame or as many fragments.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  PL_WS_EVENT_NONE,      /* more bytes are needed */
  PL_WS_EVENT_TEXT,      /* a whole text message, valid UTF-8 */
  PL_WS_EVENT_BINARY,    /* a whole binary message */
  PL_WS_EVENT_PING,
  PL_WS_EVENT_PONG,
  PL_WS_EVENT_CLOSE,     /* @code (1005 when the frame had none) and @data, the reason */
  PL_WS_EVENT_TOO_BIG,   /* @data: the first bytes of the message, at most the limit;
                          * the rest of the frame is skipped, and the decoder goes on */
  PL_WS_EVENT_ERROR,     /* @code: the close code to answer with; @message says why.
                          * The stream cannot be read further: the decoder ignores
                          * everything after it */
} PlWsEventType;

typedef struct {
  PlWsEventType type;
  const guint8 *data;    /* valid until the next call on the decoder */
  gsize         length;
  gushort       code;
  const char   *message; /* static text */
} PlWsEvent;

typedef struct _PlWsDecoder PlWsDecoder;

PlWsDecoder *pl_ws_decoder_new          (gsize max_message);
void         pl_ws_decoder_free         (PlWsDecoder *decoder);

/* Reads from @data until one event is complete or @length bytes are used,
 * and returns how many bytes it used. Call it again with the rest: one
 * event a call. */
gsize        pl_ws_decoder_feed         (PlWsDecoder  *decoder,
                                         const guint8 *data,
                                         gsize         length,
                                         PlWsEvent    *event);

/* Bytes the decoder holds now: a frame header and the message being read. */
gsize        pl_ws_decoder_get_buffered (PlWsDecoder *decoder);

/* A frame as the server sends it: FIN set, never masked. */
GBytes      *pl_ws_encode_frame         (guint8        opcode,
                                         const guint8 *payload,
                                         gsize         length);

#define PL_WS_OPCODE_CONTINUATION 0x0
#define PL_WS_OPCODE_TEXT         0x1
#define PL_WS_OPCODE_BINARY       0x2
#define PL_WS_OPCODE_CLOSE        0x8
#define PL_WS_OPCODE_PING         0x9
#define PL_WS_OPCODE_PONG         0xA

#define PL_WS_CLOSE_NORMAL           1000
#define PL_WS_CLOSE_GOING_AWAY       1001
#define PL_WS_CLOSE_PROTOCOL_ERROR   1002
#define PL_WS_CLOSE_NO_STATUS        1005
#define PL_WS_CLOSE_ABNORMAL         1006
#define PL_WS_CLOSE_BAD_DATA         1007
#define PL_WS_CLOSE_POLICY_VIOLATION 1008
#define PL_WS_CLOSE_TOO_BIG          1009

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlWsDecoder, pl_ws_decoder_free)

G_END_DECLS
