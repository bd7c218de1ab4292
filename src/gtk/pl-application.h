/* pl-application.h — the `partyline` desktop dialer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "pl-account.h"

G_BEGIN_DECLS

#define PL_TYPE_APPLICATION (pl_application_get_type ())

G_DECLARE_FINAL_TYPE (PlApplication, pl_application, PL, APPLICATION, AdwApplication)

PlApplication *pl_application_new          (void);
PlAccount     *pl_application_get_account  (PlApplication *self);
/* PlHistoryEntry items: the calls of this run that ended, newest first. */
GListModel    *pl_application_get_history  (PlApplication *self);

G_END_DECLS
