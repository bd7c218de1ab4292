/* pl-call-row.h — one current call in the window's list
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "pl-call.h"

G_BEGIN_DECLS

#define PL_TYPE_CALL_ROW (pl_call_row_get_type ())

G_DECLARE_FINAL_TYPE (PlCallRow, pl_call_row, PL, CALL_ROW, AdwActionRow)

GtkWidget  *pl_call_row_new       (PlCall *call);
PlCall     *pl_call_row_get_call  (PlCallRow *self);

/* A reason ("busy") as people read it; translated. */
const char *pl_call_row_describe_reason (const char *reason);

G_END_DECLS
