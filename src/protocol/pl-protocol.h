/* pl-protocol.h — the signaling protocol v1 (docs/protocol.md)
 *
 * Pure code: JSON text <-> PlMessage, and the validation of numbers and call ids.
 * No I/O. Used by the server and by the phones.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

#include "pl-error.h"

G_BEGIN_DECLS

#define PL_PROTOCOL_MAX_FRAME 65536

/* The deepest nesting of objects and arrays a message may have. Protocol
 * messages need two (`peers`); json-glib's parser recurses once per level,
 * so the depth is checked before it sees the text. */
#define PL_PROTOCOL_MAX_DEPTH 16

typedef enum {
  PL_MESSAGE_UNKNOWN = 0,
  PL_MESSAGE_REGISTER,
  PL_MESSAGE_REGISTERED,
  PL_MESSAGE_CALL,
  PL_MESSAGE_RINGING,
  PL_MESSAGE_ACCEPT,
  PL_MESSAGE_ICE,
  PL_MESSAGE_HANGUP,
  PL_MESSAGE_PEERS,
  PL_MESSAGE_ERROR,
} PlMessageType;

/* Who reads the message: the server reads what phones send, a phone reads
 * what the server sends. The two differ in required fields (`to` vs `from`
 * on `call`, `numbers` on `peers`, …). */
typedef enum {
  PL_PROTOCOL_TO_SERVER,
  PL_PROTOCOL_TO_PHONE,
} PlProtocolDirection;

typedef struct {
  PlMessageType type;
  char *type_name;       /* the "type" string as received, or NULL */
  char *call_id;         /* call, ringing, accept, ice, hangup; optional on error */
  char *number;          /* register, registered */
  char *token;           /* register, optional */
  char *to;              /* call, phone → server */
  char *from;            /* call, server → phone */
  char *sdp;             /* call, accept */
  char *candidate;       /* ice; "" means end of candidates */
  int   sdp_mline_index; /* ice; -1 when absent */
  char *reason;          /* hangup */
  GStrv numbers;         /* peers answer */
  char *code;            /* error */
  char *message;         /* error */
  char *ref;             /* error, optional */
} PlMessage;

PlMessage  *pl_message_new          (PlMessageType type);
void        pl_message_free         (PlMessage *msg);

/* Phase 1: a JSON object. Returns NULL (PL_PROTOCOL_ERROR_BAD_REQUEST) only
 * when @text is not valid UTF-8, nests deeper than PL_PROTOCOL_MAX_DEPTH,
 * is not JSON or not an object. Otherwise returns a message with
 * @type (PL_MESSAGE_UNKNOWN when "type" is missing, not a string, or not a
 * type of the protocol), @type_name (the string "type", if any) and
 * @call_id (the raw string "call_id", if any, not yet validated). A string
 * that decodes to invalid UTF-8 (an escaped unpaired surrogate) counts as
 * no string here, and phase 2 refuses it in any field. */
PlMessage  *pl_message_parse        (const char *text,
                                     gssize      length,
                                     GError    **error);

/* What can be read of a message that is not read whole (too large, or over
 * the rate limit): the top-level string members "type" and "call_id" of a
 * JSON object, found in at most @length bytes of @text, which may be cut
 * anywhere. No recursion and no allocation but the two strings. Returns a
 * PL_MESSAGE_UNKNOWN message with @type_name and @call_id set where they
 * were found (@type set from @type_name), or NULL when @text does not start
 * as a JSON object. Never validates: use it only to fill `ref`/`call_id`
 * of an error. */
PlMessage  *pl_message_peek         (const char *text,
                                     gsize       length);

/* Phase 2: checks every field that @type requires in @direction and fills
 * the message. FALSE with PL_PROTOCOL_ERROR_BAD_REQUEST and a human readable
 * message naming the field otherwise. Unknown fields are ignored. */
gboolean    pl_message_validate     (PlMessage          *msg,
                                     PlProtocolDirection direction,
                                     GError            **error);

/* JSON text of @msg, with the fields its type carries. */
char       *pl_message_to_json      (const PlMessage *msg);

const char *pl_message_type_to_string (PlMessageType type);
PlMessageType pl_message_type_from_string (const char *name);

/* Why a call ended: the `reason` of `hangup` (docs/protocol.md, "hangup").
 * These are the reasons Partyline sends; a receiver accepts any string, so a
 * reason read from the wire stays a string (pl_hangup_reason_from_string ()
 * tells whether it is one of these). */
typedef enum {
  PL_HANGUP_NORMAL,
  PL_HANGUP_REJECTED,
  PL_HANGUP_BUSY,
  PL_HANGUP_NOT_FOUND,
  PL_HANGUP_TIMEOUT,
  PL_HANGUP_FAILED,
  PL_HANGUP_DISCONNECTED,
} PlHangupReason;

const char *pl_hangup_reason_to_string   (PlHangupReason  reason);
gboolean    pl_hangup_reason_from_string (const char     *name,
                                          PlHangupReason *out_reason);

/* Convenience constructors; each returns a newly allocated JSON string. */
char       *pl_protocol_build_error  (PlProtocolError code,
                                      const char     *message,
                                      const char     *ref,
                                      const char     *call_id);
char       *pl_protocol_build_hangup (const char     *call_id,
                                      PlHangupReason  reason);

gboolean    pl_number_is_valid      (const char *number);
gboolean    pl_call_id_is_valid     (const char *call_id);
char       *pl_call_id_new          (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlMessage, pl_message_free)

G_END_DECLS
