/* pl-phone-error.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The phone's error domains. (The protocol's codes, which the server sends,
 * are PL_PROTOCOL_ERROR in pl-error.h.) */
typedef enum {
  PL_SIGNALING_ERROR_CONNECT,
  PL_SIGNALING_ERROR_REFUSED,
  PL_SIGNALING_ERROR_CLOSED,
} PlSignalingError;

typedef enum {
  PL_CALL_ERROR_PIPELINE,
  PL_CALL_ERROR_NEGOTIATION,
  PL_CALL_ERROR_INVALID_STATE,
  PL_CALL_ERROR_SOURCE,        /* the audio source (microphone, file) cannot be opened */
  PL_CALL_ERROR_PEER_AUTHENTICATION, /* the peer's DTLS certificate does not match its SDP */
} PlCallError;

#define PL_SIGNALING_ERROR (pl_signaling_error_quark ())
#define PL_CALL_ERROR (pl_call_error_quark ())

GQuark pl_signaling_error_quark (void);
GQuark pl_call_error_quark (void);

G_END_DECLS
