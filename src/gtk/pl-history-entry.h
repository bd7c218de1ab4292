/* pl-history-entry.h — one call of this run, once it ended
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "pl-call.h"

G_BEGIN_DECLS

#define PL_TYPE_HISTORY_ENTRY (pl_history_entry_get_type ())

G_DECLARE_FINAL_TYPE (PlHistoryEntry, pl_history_entry, PL, HISTORY_ENTRY, GObject)

/* @started: when the call was dialed or arrived. */
PlHistoryEntry  *pl_history_entry_new           (PlCall    *call,
                                                 GDateTime *started);
const char      *pl_history_entry_get_peer      (PlHistoryEntry *self);
PlCallDirection  pl_history_entry_get_direction (PlHistoryEntry *self);
GDateTime       *pl_history_entry_get_started   (PlHistoryEntry *self);
/* Seconds it was active (0 when it never was). */
gint64           pl_history_entry_get_duration  (PlHistoryEntry *self);
const char      *pl_history_entry_get_reason    (PlHistoryEntry *self);
/* Was it ever active? */
gboolean         pl_history_entry_get_answered  (PlHistoryEntry *self);

G_END_DECLS
