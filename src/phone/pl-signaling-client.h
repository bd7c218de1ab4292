/* pl-signaling-client.h — a phone's WebSocket to the signaling server
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "pl-protocol.h"
#include "pl-phone-error.h"

G_BEGIN_DECLS

#define PL_TYPE_SIGNALING_CLIENT (pl_signaling_client_get_type ())

G_DECLARE_FINAL_TYPE (PlSignalingClient, pl_signaling_client, PL, SIGNALING_CLIENT, GObject)

/* Seconds for each of connecting and getting an answer to `register`
 * (the server's default deadline for a registration is 10 s too). */
#define PL_SIGNALING_DEFAULT_REGISTER_TIMEOUT_S 10

PlSignalingClient *pl_signaling_client_new             (const char *url,
                                                        const char *token);
/* Before pl_signaling_client_register_async (); 0 waits for ever. */
void               pl_signaling_client_set_register_timeout (PlSignalingClient *self,
                                                             guint              seconds);
gboolean           pl_signaling_client_is_connected    (PlSignalingClient *self);

/* Connects and registers @number; completes on `registered`, or with
 * PL_SIGNALING_ERROR_CONNECT (no server) or PL_SIGNALING_ERROR_REFUSED
 * (an `error` answer, whose code and message are in the error's text). */
void               pl_signaling_client_register_async  (PlSignalingClient  *self,
                                                        const char         *number,
                                                        GCancellable       *cancellable,
                                                        GAsyncReadyCallback callback,
                                                        gpointer            user_data);
gboolean           pl_signaling_client_register_finish (PlSignalingClient *self,
                                                        GAsyncResult      *result,
                                                        GError           **error);

/* Queues @msg; messages leave in the order sent, paced under the server's
 * rate limit. FALSE when not connected or closing. */
gboolean           pl_signaling_client_send            (PlSignalingClient *self,
                                                        const PlMessage   *msg);
/* How many messages wait in the outbox for their turn. */
guint              pl_signaling_client_get_queued      (PlSignalingClient *self);

/* Closes the WebSocket normally (1000) once every message sent before has
 * left. "closed" follows. */
void               pl_signaling_client_close           (PlSignalingClient *self);

G_END_DECLS
