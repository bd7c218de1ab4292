/* pl-history-entry.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "pl-history-entry"

#include "config.h"

#include "pl-history-entry.h"

struct _PlHistoryEntry
{
  GObject          parent_instance;

  char            *peer;
  PlCallDirection  direction;
  GDateTime       *started;
  gint64           duration;
  char            *reason;
  gboolean         answered;
};

G_DEFINE_FINAL_TYPE (PlHistoryEntry, pl_history_entry, G_TYPE_OBJECT)

static void
pl_history_entry_finalize (GObject *object)
{
  PlHistoryEntry *self = PL_HISTORY_ENTRY (object);

  g_free (self->peer);
  g_free (self->reason);
  g_clear_pointer (&self->started, g_date_time_unref);

  G_OBJECT_CLASS (pl_history_entry_parent_class)->finalize (object);
}

static void
pl_history_entry_class_init (PlHistoryEntryClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = pl_history_entry_finalize;
}

static void
pl_history_entry_init (PlHistoryEntry *self)
{
}

PlHistoryEntry *
pl_history_entry_new (PlCall    *call,
                      GDateTime *started)
{
  PlHistoryEntry *self;
  double duration_ms;

  g_return_val_if_fail (PL_IS_CALL (call), NULL);
  g_return_val_if_fail (started != NULL, NULL);

  self = g_object_new (PL_TYPE_HISTORY_ENTRY, NULL);
  self->peer = g_strdup (pl_call_get_peer (call));
  self->direction = pl_call_get_direction (call);
  self->started = g_date_time_ref (started);
  duration_ms = pl_call_get_duration_ms (call);
  self->duration = duration_ms > 0 ? (gint64) (duration_ms / 1000 + 0.5) : 0;
  self->reason = g_strdup (pl_call_get_reason (call));
  self->answered = pl_call_get_setup_ms (call) >= 0;

  return self;
}

const char *
pl_history_entry_get_peer (PlHistoryEntry *self)
{
  g_return_val_if_fail (PL_IS_HISTORY_ENTRY (self), NULL);

  return self->peer;
}

PlCallDirection
pl_history_entry_get_direction (PlHistoryEntry *self)
{
  g_return_val_if_fail (PL_IS_HISTORY_ENTRY (self), PL_CALL_DIRECTION_OUTGOING);

  return self->direction;
}

GDateTime *
pl_history_entry_get_started (PlHistoryEntry *self)
{
  g_return_val_if_fail (PL_IS_HISTORY_ENTRY (self), NULL);

  return self->started;
}

gint64
pl_history_entry_get_duration (PlHistoryEntry *self)
{
  g_return_val_if_fail (PL_IS_HISTORY_ENTRY (self), 0);

  return self->duration;
}

const char *
pl_history_entry_get_reason (PlHistoryEntry *self)
{
  g_return_val_if_fail (PL_IS_HISTORY_ENTRY (self), NULL);

  return self->reason;
}

gboolean
pl_history_entry_get_answered (PlHistoryEntry *self)
{
  g_return_val_if_fail (PL_IS_HISTORY_ENTRY (self), FALSE);

  return self->answered;
}
