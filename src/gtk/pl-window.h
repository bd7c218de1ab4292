/* pl-window.h — the dialer's one window
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "pl-account.h"

G_BEGIN_DECLS

#define PL_TYPE_WINDOW (pl_window_get_type ())

G_DECLARE_FINAL_TYPE (PlWindow, pl_window, PL, WINDOW, AdwApplicationWindow)

/* A window of @application that shows @account, its calls, and @history
 * (PlHistoryEntry items). */
PlWindow *pl_window_new          (GtkApplication *application,
                                  PlAccount      *account,
                                  GListModel     *history);

/* A message at the bottom of the window, with an optional button that
 * activates @action_name (an "app." action). */
void      pl_window_show_message (PlWindow   *self,
                                  const char *message,
                                  const char *button_label,
                                  const char *action_name);
/* Rows in the list of current calls, ended ones included. */
guint     pl_window_count_rows   (PlWindow *self);

G_END_DECLS
