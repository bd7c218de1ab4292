/* fuzz-ws-decoder.c — PlWsDecoder, the server's reader of client frames
 *
 * The input is what a client sends after the handshake, split at the
 * positions its last byte picks, so that frames arrive cut anywhere. The
 * decoder must never hold more than the limit (and one header), never hand
 * out more than the limit, and never read on after an error.
 *
 * Copyright 2026 The Partyline authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "pl-fuzz.h"
#include "pl-ws-decoder.h"

#include <string.h>

/* Small, so that inputs of a few hundred bytes reach the limit. */
#define LIMIT 256

PL_FUZZ_DEFINE_INITIALIZE ()

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(PlWsDecoder) decoder = pl_ws_decoder_new (LIMIT);
  gsize chunk;
  gsize pos = 0;
  gboolean dead = FALSE;

  if (size < 1)
    return 0;
  /* The last byte sets the size of the reads: 1 to 256 bytes. */
  chunk = data[size - 1] + 1;
  size--;

  while (pos < size) {
    gsize length = MIN (chunk, size - pos);
    gsize offset = 0;

    while (offset < length) {
      PlWsEvent event;
      gsize used = pl_ws_decoder_feed (decoder, data + pos + offset, length - offset, &event);

      g_assert_cmpuint (used, <=, length - offset);
      offset += used;
      g_assert_cmpuint (pl_ws_decoder_get_buffered (decoder), <=, LIMIT + 14);

      switch (event.type) {
      case PL_WS_EVENT_NONE:
        /* Only when the bytes given are all used. */
        g_assert_cmpuint (offset, ==, length);
        break;
      case PL_WS_EVENT_TEXT:
        g_assert_true (g_utf8_validate ((const char *) event.data, event.length, NULL));
        G_GNUC_FALLTHROUGH;
      case PL_WS_EVENT_BINARY:
      case PL_WS_EVENT_TOO_BIG:
        g_assert_false (dead);
        g_assert_cmpuint (event.length, <=, LIMIT);
        if (event.length > 0)
          g_assert_nonnull (event.data);
        break;
      case PL_WS_EVENT_PING:
      case PL_WS_EVENT_PONG:
      case PL_WS_EVENT_CLOSE:
        g_assert_false (dead);
        g_assert_cmpuint (event.length, <=, 125);
        break;
      case PL_WS_EVENT_ERROR:
        g_assert_false (dead);
        g_assert_nonnull (event.message);
        g_assert_true (event.code == PL_WS_CLOSE_PROTOCOL_ERROR ||
                       event.code == PL_WS_CLOSE_BAD_DATA);
        dead = TRUE;
        break;
      default:
        g_assert_not_reached ();
      }
      if (used == 0 && event.type == PL_WS_EVENT_NONE)
        break;
    }
    pos += length;
  }

  return 0;
}
