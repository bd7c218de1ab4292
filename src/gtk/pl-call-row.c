/* pl-call-row.c
 *
 * One call: the peer, what is happening (with a running timer once active),
 * two level meters (what you send, what you hear), mute, and answer/decline
 * or hang-up. The row stays a few seconds after the call ended, showing the
 * reason, then removes itself from its list.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "pl-call-row"

#include "config.h"

#include "pl-call-row.h"
#include "pl-dial-util.h"
#include "pl-event-log.h"

#include <glib/gi18n.h>

#include <math.h>

/* How long an ended call stays in the list. */
#define ENDED_ROW_SECONDS 4
/* The meters show -60 dB … 0 dB. */
#define METER_FLOOR_DB -60.0

struct _PlCallRow
{
  AdwActionRow  parent_instance;

  PlCall       *call;
  const char   *state;        /* shown and logged: "dialing", …, "active", "ending", "ended" */
  gint64        active_since; /* g_get_monotonic_time () when it became active */
  guint         timer_id;
  guint         expire_id;
  double        logged[2];    /* the meter values last written to the event log */

  GtkImage     *direction_image;
  GtkLevelBar  *input_meter;
  GtkLevelBar  *output_meter;
  GtkToggleButton *mute_button;
  GtkButton    *answer_button;
  GtkButton    *decline_button;
  GtkButton    *hang_up_button;
};

G_DEFINE_FINAL_TYPE (PlCallRow, pl_call_row, ADW_TYPE_ACTION_ROW)

enum {
  PROP_0,
  PROP_CALL,
  N_PROPS
};

static GParamSpec *props[N_PROPS];

const char *
pl_call_row_describe_reason (const char *reason)
{
  PlHangupReason known;

  if (reason == NULL)
    return _("Ended");
  /* The other side may send any reason: one we do not know is shown as it came. */
  if (!pl_hangup_reason_from_string (reason, &known))
    return reason;

  switch (known) {
  case PL_HANGUP_NORMAL:
    return _("Hung up");
  case PL_HANGUP_REJECTED:
    return _("Declined");
  case PL_HANGUP_BUSY:
    return _("Busy");
  case PL_HANGUP_NOT_FOUND:
    return _("Number not found");
  case PL_HANGUP_TIMEOUT:
    return _("No answer");
  case PL_HANGUP_FAILED:
    return _("Failed");
  case PL_HANGUP_DISCONNECTED:
    return _("Connection lost");
  default:
    return reason;
  }
}

static double
level_to_fraction (double db)
{
  if (!isfinite (db))
    return 0;

  return CLAMP ((db - METER_FLOOR_DB) / -METER_FLOOR_DB, 0.0, 1.0);
}

static void
log_row (PlCallRow *self)
{
  PlEvent *ev = pl_event_log_begin ("row");

  if (ev == NULL)
    return;

  pl_event_log_add_string (ev, "peer", pl_call_get_peer (self->call));
  pl_event_log_add_string (ev, "direction",
                           pl_call_direction_to_string (pl_call_get_direction (self->call)));
  pl_event_log_add_string (ev, "state", self->state);
  pl_event_log_add_string (ev, "status", adw_action_row_get_subtitle (ADW_ACTION_ROW (self)));
  pl_event_log_add_bool (ev, "muted", gtk_toggle_button_get_active (self->mute_button));
  pl_event_log_add_bool (ev, "answer_visible",
                         gtk_widget_get_visible (GTK_WIDGET (self->answer_button)));
  pl_event_log_end (ev);
}

static void
on_subtitle_notify (PlCallRow *self)
{
  log_row (self);
}

static void
on_meter_notify_value (GtkLevelBar *meter,
                       GParamSpec  *pspec,
                       PlCallRow   *self)
{
  gboolean input = meter == self->input_meter;
  double value = gtk_level_bar_get_value (meter);
  PlEvent *ev;

  /* Only changes one can see. */
  if (fabs (value - self->logged[input]) < 0.02 && (value == 0) == (self->logged[input] == 0))
    return;
  self->logged[input] = value;

  ev = pl_event_log_begin ("level");
  pl_event_log_add_string (ev, "peer", pl_call_get_peer (self->call));
  pl_event_log_add_string (ev, "meter", input ? "input" : "output");
  pl_event_log_add_double (ev, "value", value);
  pl_event_log_end (ev);
}

static void
update (PlCallRow *self)
{
  PlCallState state = pl_call_get_state (self->call);
  gboolean ending = pl_call_is_ending (self->call) || state == PL_CALL_STATE_ENDED;
  gboolean incoming = state == PL_CALL_STATE_INCOMING && !ending;
  g_autofree char *status = NULL;

  if (state == PL_CALL_STATE_ENDED) {
    self->state = "ended";
    /* Translators: %s is why the call ended ("Busy", "Hung up", …) */
    status = g_strdup_printf (_("Ended · %s"),
                              pl_call_row_describe_reason (pl_call_get_reason (self->call)));
  } else if (ending) {
    self->state = "ending";
    status = g_strdup (_("Hanging up…"));
  } else {
    switch (state) {
    case PL_CALL_STATE_NEW:
    case PL_CALL_STATE_DIALING:
      self->state = "dialing";
      status = g_strdup (_("Calling…"));
      break;
    case PL_CALL_STATE_RINGING:
      self->state = "ringing";
      status = g_strdup (_("Ringing…"));
      break;
    case PL_CALL_STATE_INCOMING:
      self->state = "incoming";
      status = g_strdup (_("Incoming call"));
      break;
    case PL_CALL_STATE_CONNECTING:
      self->state = "connecting";
      status = g_strdup (_("Connecting…"));
      break;
    case PL_CALL_STATE_ACTIVE: {
      g_autofree char *time = NULL;
      gint64 us = g_get_monotonic_time () - self->active_since;

      self->state = "active";
      time = pl_format_duration (us / G_USEC_PER_SEC);
      /* Translators: %s is how long the call has lasted, as 1:23 */
      status = g_strdup_printf (_("Active · %s"), time);
      break;
    }
    case PL_CALL_STATE_ENDED:
    default:
      g_assert_not_reached ();
    }
  }

  gtk_widget_set_visible (GTK_WIDGET (self->answer_button), incoming);
  gtk_widget_set_visible (GTK_WIDGET (self->decline_button), incoming);
  gtk_widget_set_visible (GTK_WIDGET (self->hang_up_button), !incoming);
  gtk_widget_set_sensitive (GTK_WIDGET (self->hang_up_button), !ending);
  gtk_widget_set_sensitive (GTK_WIDGET (self->mute_button), !ending);
  gtk_widget_set_visible (GTK_WIDGET (self->mute_button), !incoming);
  if (ending) {
    gtk_level_bar_set_value (self->input_meter, 0);
    gtk_level_bar_set_value (self->output_meter, 0);
    gtk_widget_add_css_class (GTK_WIDGET (self), "dim-label");
  }

  if (g_strcmp0 (adw_action_row_get_subtitle (ADW_ACTION_ROW (self)), status) != 0)
    adw_action_row_set_subtitle (ADW_ACTION_ROW (self), status);
  else
    log_row (self);
}

static gboolean
on_timer (gpointer user_data)
{
  update (user_data);

  return G_SOURCE_CONTINUE;
}

static gboolean
on_expire (gpointer user_data)
{
  PlCallRow *self = user_data;
  GtkWidget *list = gtk_widget_get_parent (GTK_WIDGET (self));
  PlEvent *ev;

  self->expire_id = 0;
  ev = pl_event_log_begin ("row-removed");
  pl_event_log_add_string (ev, "peer", pl_call_get_peer (self->call));
  pl_event_log_end (ev);

  if (GTK_IS_LIST_BOX (list))
    gtk_list_box_remove (GTK_LIST_BOX (list), GTK_WIDGET (self));

  return G_SOURCE_REMOVE;
}

static void
on_call_state_changed (PlCall    *call,
                       int        state,
                       int        old_state,
                       PlCallRow *self)
{
  if (state == PL_CALL_STATE_ACTIVE && self->timer_id == 0) {
    self->active_since = g_get_monotonic_time ();
    self->timer_id = g_timeout_add (1000, on_timer, self);
  }
  if (state == PL_CALL_STATE_ENDED) {
    g_clear_handle_id (&self->timer_id, g_source_remove);
    if (self->expire_id == 0)
      self->expire_id = g_timeout_add_seconds (ENDED_ROW_SECONDS, on_expire, self);
  }

  update (self);
}

static void
on_call_ending (PlCall     *call,
                const char *reason,
                PlCallRow  *self)
{
  update (self);
}

static void
on_call_level (PlCall    *call,
               double     level_db,
               PlCallRow *self)
{
  if (!pl_call_is_ending (call))
    gtk_level_bar_set_value (self->output_meter, level_to_fraction (level_db));
}

static void
on_call_input_level (PlCall    *call,
                     double     level_db,
                     PlCallRow *self)
{
  if (!pl_call_is_ending (call))
    gtk_level_bar_set_value (self->input_meter, level_to_fraction (level_db));
}

static void
on_mute_toggled (GtkToggleButton *button,
                 PlCallRow       *self)
{
  gboolean muted = gtk_toggle_button_get_active (button);

  gtk_button_set_icon_name (GTK_BUTTON (button), muted ? "microphone-disabled-symbolic"
                                                       : "microphone-sensitivity-high-symbolic");
  gtk_widget_set_tooltip_text (GTK_WIDGET (button),
                               muted ? _("Unmute the microphone") : _("Mute the microphone"));
  gtk_accessible_update_state (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_STATE_PRESSED, muted, -1);
  /* A muted call sends nothing (and its source reports no level). */
  if (muted)
    gtk_level_bar_set_value (self->input_meter, 0);
  log_row (self);
}

static void
pl_call_row_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  PlCallRow *self = PL_CALL_ROW (object);

  switch (prop_id) {
  case PROP_CALL:
    self->call = g_value_dup_object (value);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  }
}

static void
pl_call_row_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  PlCallRow *self = PL_CALL_ROW (object);

  switch (prop_id) {
  case PROP_CALL:
    g_value_set_object (value, self->call);
    break;
  default:
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  }
}

static void
pl_call_row_constructed (GObject *object)
{
  PlCallRow *self = PL_CALL_ROW (object);
  const char *peer = pl_call_get_peer (self->call);
  gboolean incoming = pl_call_get_direction (self->call) == PL_CALL_DIRECTION_INCOMING;
  g_autofree char *label = NULL;

  G_OBJECT_CLASS (pl_call_row_parent_class)->constructed (object);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self), peer);
  gtk_image_set_from_icon_name (self->direction_image,
                                incoming ? "call-incoming-symbolic" : "call-outgoing-symbolic");
  /* Translators: %s is a phone number */
  label = g_strdup_printf (incoming ? _("Call from %s") : _("Call to %s"), peer);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);

  gtk_actionable_set_action_target (GTK_ACTIONABLE (self->answer_button), "s", peer);
  gtk_actionable_set_action_target (GTK_ACTIONABLE (self->decline_button), "s", peer);
  gtk_actionable_set_action_target (GTK_ACTIONABLE (self->hang_up_button), "s", peer);

  g_object_bind_property (self->call, "muted", self->mute_button, "active",
                          G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  g_signal_connect_object (self->mute_button, "toggled", G_CALLBACK (on_mute_toggled), self, 0);

  g_signal_connect_object (self->call, "state-changed", G_CALLBACK (on_call_state_changed), self, 0);
  g_signal_connect_object (self->call, "ending", G_CALLBACK (on_call_ending), self, 0);
  g_signal_connect_object (self->call, "level", G_CALLBACK (on_call_level), self, 0);
  /* The level of what the call sends. */
  g_signal_connect_object (self->call, "input-level", G_CALLBACK (on_call_input_level), self, 0);

  g_signal_connect_object (self, "notify::subtitle", G_CALLBACK (on_subtitle_notify), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->input_meter, "notify::value", G_CALLBACK (on_meter_notify_value),
                           self, 0);
  g_signal_connect_object (self->output_meter, "notify::value",
                           G_CALLBACK (on_meter_notify_value), self, 0);

  if (pl_call_get_state (self->call) == PL_CALL_STATE_ACTIVE) {
    self->active_since = g_get_monotonic_time ();
    self->timer_id = g_timeout_add (1000, on_timer, self);
  }
  update (self);
}

static void
pl_call_row_dispose (GObject *object)
{
  PlCallRow *self = PL_CALL_ROW (object);

  g_clear_handle_id (&self->timer_id, g_source_remove);
  g_clear_handle_id (&self->expire_id, g_source_remove);
  if (self->call != NULL)
    g_signal_handlers_disconnect_by_data (self->call, self);
  g_clear_object (&self->call);

  gtk_widget_dispose_template (GTK_WIDGET (self), PL_TYPE_CALL_ROW);

  G_OBJECT_CLASS (pl_call_row_parent_class)->dispose (object);
}

static void
pl_call_row_class_init (PlCallRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->set_property = pl_call_row_set_property;
  object_class->get_property = pl_call_row_get_property;
  object_class->constructed = pl_call_row_constructed;
  object_class->dispose = pl_call_row_dispose;

  props[PROP_CALL] =
    g_param_spec_object ("call", NULL, NULL, PL_TYPE_CALL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, props);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/partyline/Partyline/pl-call-row.ui");
  gtk_widget_class_bind_template_child (widget_class, PlCallRow, direction_image);
  gtk_widget_class_bind_template_child (widget_class, PlCallRow, input_meter);
  gtk_widget_class_bind_template_child (widget_class, PlCallRow, output_meter);
  gtk_widget_class_bind_template_child (widget_class, PlCallRow, mute_button);
  gtk_widget_class_bind_template_child (widget_class, PlCallRow, answer_button);
  gtk_widget_class_bind_template_child (widget_class, PlCallRow, decline_button);
  gtk_widget_class_bind_template_child (widget_class, PlCallRow, hang_up_button);
}

static void
pl_call_row_init (PlCallRow *self)
{
  self->state = "dialing";
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
pl_call_row_new (PlCall *call)
{
  g_return_val_if_fail (PL_IS_CALL (call), NULL);

  return g_object_new (PL_TYPE_CALL_ROW, "call", call, NULL);
}

PlCall *
pl_call_row_get_call (PlCallRow *self)
{
  g_return_val_if_fail (PL_IS_CALL_ROW (self), NULL);

  return self->call;
}
