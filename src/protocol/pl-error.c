/* pl-error.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "pl-error"

#include "config.h"

#include "pl-error.h"

#include <string.h>

G_DEFINE_QUARK (pl-protocol-error-quark, pl_protocol_error)

static const char * const protocol_error_names[] = {
  [PL_PROTOCOL_ERROR_BAD_REQUEST] = "bad-request",
  [PL_PROTOCOL_ERROR_NOT_REGISTERED] = "not-registered",
  [PL_PROTOCOL_ERROR_UNAUTHORIZED] = "unauthorized",
  [PL_PROTOCOL_ERROR_NUMBER_TAKEN] = "number-taken",
  [PL_PROTOCOL_ERROR_UNKNOWN_CALL] = "unknown-call",
  [PL_PROTOCOL_ERROR_BUSY] = "busy",
  [PL_PROTOCOL_ERROR_TOO_LARGE] = "too-large",
  [PL_PROTOCOL_ERROR_RATE_LIMITED] = "rate-limited",
};

const char *
pl_protocol_error_to_string (PlProtocolError code)
{
  g_return_val_if_fail (code < G_N_ELEMENTS (protocol_error_names), "bad-request");

  return protocol_error_names[code];
}

gboolean
pl_protocol_error_from_string (const char      *name,
                               PlProtocolError *out_code)
{
  int i;

  g_return_val_if_fail (out_code != NULL, FALSE);

  i = _pl_name_lookup (protocol_error_names, G_N_ELEMENTS (protocol_error_names), name);
  if (i < 0)
    return FALSE;

  *out_code = i;
  return TRUE;
}

int
_pl_name_lookup (const char * const *names,
                 guint               n,
                 const char         *name)
{
  if (name == NULL)
    return -1;

  for (guint i = 0; i < n; i++) {
    if (names[i] != NULL && strcmp (names[i], name) == 0)
      return i;
  }

  return -1;
}
