/* pl-error.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Error codes of the signaling protocol (docs/protocol.md, "error (server → phone)"). */
typedef enum {
  PL_PROTOCOL_ERROR_BAD_REQUEST,
  PL_PROTOCOL_ERROR_NOT_REGISTERED,
  PL_PROTOCOL_ERROR_UNAUTHORIZED,
  PL_PROTOCOL_ERROR_NUMBER_TAKEN,
  PL_PROTOCOL_ERROR_UNKNOWN_CALL,
  PL_PROTOCOL_ERROR_BUSY,
  PL_PROTOCOL_ERROR_TOO_LARGE,
  PL_PROTOCOL_ERROR_RATE_LIMITED,
} PlProtocolError;

#define PL_PROTOCOL_ERROR (pl_protocol_error_quark ())

GQuark pl_protocol_error_quark (void);

/* The wire name of a protocol error code ("bad-request", …), and back. */
const char *pl_protocol_error_to_string (PlProtocolError code);
gboolean    pl_protocol_error_from_string (const char      *name,
                                           PlProtocolError *out_code);

/* The protocol's own: the index of @name in @names (@n entries, NULL ones
 * skipped), or -1. Its name tables (message types, error codes, hang-up
 * reasons) are read back with it. */
int         _pl_name_lookup               (const char * const *names,
                                           guint               n,
                                           const char         *name);

G_END_DECLS
