/* pl-account.h — the line the dialer registers, kept registered
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "pl-line.h"

G_BEGIN_DECLS

typedef enum {
  PL_ACCOUNT_STATE_OFFLINE,     /* not configured, or shut down */
  PL_ACCOUNT_STATE_CONNECTING,  /* a registration is running */
  PL_ACCOUNT_STATE_REGISTERED,
  PL_ACCOUNT_STATE_RETRYING,    /* lost or unreachable: a new attempt is scheduled */
  PL_ACCOUNT_STATE_FAILED,      /* needs the user: bad settings, or the server refused */
} PlAccountState;

#define PL_TYPE_ACCOUNT (pl_account_get_type ())

G_DECLARE_FINAL_TYPE (PlAccount, pl_account, PL, ACCOUNT, GObject)

PlAccount      *pl_account_new               (void);

/* Uses these settings from now on: when any of them changed, the current
 * line is shut down (its calls hung up) and a new one registers. */
void            pl_account_configure         (PlAccount           *self,
                                              const char          *server_url,
                                              const char          *number,
                                              const char          *token,
                                              const PlMediaConfig *media);
void            pl_account_set_auto_answer   (PlAccount *self,
                                              gboolean   auto_answer);

/* Registers again now, resetting the back-off. */
void            pl_account_reconnect         (PlAccount *self);

PlAccountState  pl_account_get_state         (PlAccount *self);
/* A sentence for people about the state (translated), or NULL when registered. */
const char     *pl_account_get_message       (PlAccount *self);
const char     *pl_account_get_server_url    (PlAccount *self);
const char     *pl_account_get_number        (PlAccount *self);
/* Seconds until the next attempt while RETRYING. */
guint           pl_account_get_retry_seconds (PlAccount *self);
/* The current line, or NULL. */
PlLine         *pl_account_get_line          (PlAccount *self);

/* Hangs up every call and closes the connection. */
void            pl_account_shutdown_async    (PlAccount          *self,
                                              GAsyncReadyCallback callback,
                                              gpointer            user_data);
gboolean        pl_account_shutdown_finish   (PlAccount    *self,
                                              GAsyncResult *result,
                                              GError      **error);

const char     *pl_account_state_to_string   (PlAccountState state);

G_END_DECLS
