/* fuzz-protocol.c — the signaling protocol parser and validator on arbitrary frames
 *
 * One input is one text frame's payload, as the server (from a phone) and a
 * phone (from the server) receive it. What runs is what they run:
 *
 * - pl_message_parse (), then the error the server answers a message with
 *   when it is not JSON, has no known type, or fails validation
 *   (pl-server.c connection_send_error (): pl_protocol_build_error () with
 *   the message's raw `type` and `call_id`). That reply must be an `error`
 *   a phone accepts, carrying the same `ref` and `call_id`.
 * - pl_message_validate () in each direction, on a fresh parse each (as the
 *   server and the phone each parse their own copy).
 * - pl_message_to_json () of a valid message (what the server forwards and
 *   a phone sends), parsed and validated again: the round trip keeps every
 *   field.
 *
 * Hostile input may make any of these refuse the message; only what our own
 * code produces from a message it accepted is asserted on.
 *
 * Copyright 2026 The Partyline authors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "pl-fuzz.h"
#include "pl-protocol.h"

#include <glib.h>

#include <string.h>

static void
assert_same_fields (const PlMessage *a,
                    const PlMessage *b)
{
  g_assert_cmpint (a->type, ==, b->type);
  g_assert_cmpstr (a->type_name, ==, b->type_name);
  g_assert_cmpstr (a->call_id, ==, b->call_id);
  g_assert_cmpstr (a->number, ==, b->number);
  g_assert_cmpstr (a->token, ==, b->token);
  g_assert_cmpstr (a->to, ==, b->to);
  g_assert_cmpstr (a->from, ==, b->from);
  g_assert_cmpstr (a->sdp, ==, b->sdp);
  g_assert_cmpstr (a->candidate, ==, b->candidate);
  g_assert_cmpint (a->sdp_mline_index, ==, b->sdp_mline_index);
  g_assert_cmpstr (a->reason, ==, b->reason);
  g_assert_cmpstr (a->code, ==, b->code);
  g_assert_cmpstr (a->message, ==, b->message);
  g_assert_cmpstr (a->ref, ==, b->ref);
  g_assert_true ((a->numbers == NULL) == (b->numbers == NULL));
  if (a->numbers != NULL)
    g_assert_true (g_strv_equal ((const char * const *) a->numbers,
                                 (const char * const *) b->numbers));
}

/* Our own JSON text must parse and validate in @direction. */
static PlMessage *
parse_own (const char         *text,
           PlProtocolDirection direction)
{
  g_autoptr(PlMessage) msg = NULL;
  g_autoptr(GError) error = NULL;

  msg = pl_message_parse (text, -1, &error);
  g_assert_no_error (error);
  g_assert_nonnull (msg);
  pl_message_validate (msg, direction, &error);
  g_assert_no_error (error);

  return g_steal_pointer (&msg);
}

/* The server's answer to a message it refuses (@msg NULL when it was not a
 * JSON object), as the phone reads it. */
static void
check_error_reply (const char      *reason,
                   const PlMessage *msg)
{
  g_autoptr(PlMessage) reply = NULL;
  g_autofree char *text = NULL;

  text = pl_protocol_build_error (PL_PROTOCOL_ERROR_BAD_REQUEST, reason,
                                  msg != NULL ? msg->type_name : NULL,
                                  msg != NULL ? msg->call_id : NULL);
  reply = parse_own (text, PL_PROTOCOL_TO_PHONE);
  g_assert_cmpint (reply->type, ==, PL_MESSAGE_ERROR);
  g_assert_cmpstr (reply->code, ==, "bad-request");
  g_assert_cmpstr (reply->message, ==, reason);
  g_assert_cmpstr (reply->ref, ==, msg != NULL ? msg->type_name : NULL);
  g_assert_cmpstr (reply->call_id, ==, msg != NULL ? msg->call_id : NULL);
}

static void
check_direction (const uint8_t      *data,
                 size_t              size,
                 PlProtocolDirection direction)
{
  g_autoptr(PlMessage) msg = NULL;
  g_autoptr(PlMessage) again = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  msg = pl_message_parse ((const char *) data, size, NULL);
  g_assert_nonnull (msg);

  if (!pl_message_validate (msg, direction, &error)) {
    g_assert_error (error, PL_PROTOCOL_ERROR, PL_PROTOCOL_ERROR_BAD_REQUEST);
    if (direction == PL_PROTOCOL_TO_SERVER)
      check_error_reply (error->message, msg);
    return;
  }
  g_assert_no_error (error);
  g_assert_cmpint (msg->type, !=, PL_MESSAGE_UNKNOWN);

  text = pl_message_to_json (msg);
  g_assert_nonnull (text);
  again = parse_own (text, direction);
  assert_same_fields (msg, again);
}

PL_FUZZ_DEFINE_INITIALIZE ()

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(PlMessage) msg = NULL;
  g_autoptr(GError) error = NULL;

  /* libFuzzer passes a size_t; the parser takes a gssize (-1: NUL-terminated). */
  if (size > G_MAXSSIZE)
    return 0;

  msg = pl_message_parse ((const char *) data, size, &error);
  if (msg == NULL) {
    g_assert_error (error, PL_PROTOCOL_ERROR, PL_PROTOCOL_ERROR_BAD_REQUEST);
    check_error_reply (error->message, NULL);
    return 0;
  }
  g_assert_no_error (error);

  check_direction (data, size, PL_PROTOCOL_TO_SERVER);
  check_direction (data, size, PL_PROTOCOL_TO_PHONE);

  return 0;
}
