/* pl-window.c
 *
 * The account row, the number entry and dial pad, the current calls and,
 * on its own page, the calls of this run.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "pl-window"

#include "config.h"

#include "pl-window.h"
#include "pl-account.h"
#include "pl-call-row.h"
#include "pl-dial-util.h"
#include "pl-event-log.h"
#include "pl-history-entry.h"

#include <glib/gi18n.h>

#include <string.h>

struct _PlWindow
{
  AdwApplicationWindow  parent_instance;

  PlAccount            *account;
  char                 *account_shown;  /* what log_account () wrote last */

  AdwToastOverlay      *toast_overlay;
  AdwViewStack         *stack;
  GtkRevealer          *banner_revealer;
  GtkImage             *banner_icon;
  GtkLabel             *banner_label;
  GtkButton            *banner_button;
  AdwActionRow         *account_row;
  GtkImage             *account_icon;
  GtkLabel             *account_status;
  GtkButton            *reconnect_button;
  GtkEntry             *number_entry;
  GtkGrid              *dial_pad;
  GtkButton            *call_button;
  GtkButton            *hang_up_all_button;
  GtkListBox           *calls_list;
  GtkListBox           *history_list;
};

G_DEFINE_FINAL_TYPE (PlWindow, pl_window, ADW_TYPE_APPLICATION_WINDOW)

/* The dial pad: what each key types, and what a screen reader says. */
static const struct {
  const char *text;
  const char *accessible;  /* NULL: the text itself */
} pad_keys[] = {
  { "1", NULL }, { "2", NULL }, { "3", NULL },
  { "4", NULL }, { "5", NULL }, { "6", NULL },
  { "7", NULL }, { "8", NULL }, { "9", NULL },
  { "+", N_("Plus") }, { "0", NULL }, { ",", N_("Comma: another number") },
};

static void
log_account (PlWindow *self)
{
  const char *banner = gtk_revealer_get_reveal_child (self->banner_revealer)
                       ? gtk_label_get_label (self->banner_label) : NULL;
  g_autofree char *shown = g_strjoin ("\n", pl_account_state_to_string (pl_account_get_state (self->account)),
                                      gtk_label_get_label (self->account_status),
                                      adw_action_row_get_subtitle (self->account_row),
                                      banner ? banner : "", NULL);
  PlEvent *ev;

  /* Once per change of what is shown. */
  if (g_strcmp0 (shown, self->account_shown) == 0)
    return;
  g_free (self->account_shown);
  self->account_shown = g_steal_pointer (&shown);

  ev = pl_event_log_begin ("account");
  if (ev == NULL)
    return;

  pl_event_log_add_string (ev, "state", pl_account_state_to_string (pl_account_get_state (self->account)));
  pl_event_log_add_string (ev, "status", gtk_label_get_label (self->account_status));
  pl_event_log_add_string (ev, "number", adw_preferences_row_get_title (ADW_PREFERENCES_ROW (self->account_row)));
  pl_event_log_add_string (ev, "server", adw_action_row_get_subtitle (self->account_row));
  pl_event_log_add_string (ev, "banner", banner);
  pl_event_log_end (ev);
}

static void
update_account (PlWindow *self)
{
  PlAccountState state = pl_account_get_state (self->account);
  const char *message = pl_account_get_message (self->account);
  const char *number = pl_account_get_number (self->account);
  const char *status = NULL;
  const char *icon = "network-offline-symbolic";
  gboolean show_banner = FALSE;

  switch (state) {
  case PL_ACCOUNT_STATE_OFFLINE:
    status = _("Offline");
    break;
  case PL_ACCOUNT_STATE_CONNECTING:
    status = _("Connecting…");
    break;
  case PL_ACCOUNT_STATE_REGISTERED:
    status = _("Connected");
    icon = "emblem-ok-symbolic";
    break;
  case PL_ACCOUNT_STATE_RETRYING:
    status = _("Reconnecting…");
    icon = "network-error-symbolic";
    show_banner = TRUE;
    break;
  case PL_ACCOUNT_STATE_FAILED:
    status = _("Not connected");
    icon = "dialog-warning-symbolic";
    show_banner = TRUE;
    break;
  default:
    g_assert_not_reached ();
  }

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->account_row),
                                 number && *number ? number : _("No number"));
  adw_action_row_set_subtitle (self->account_row, pl_account_get_server_url (self->account));
  gtk_image_set_from_icon_name (self->account_icon, icon);
  gtk_widget_set_visible (GTK_WIDGET (self->reconnect_button),
                          state == PL_ACCOUNT_STATE_RETRYING || state == PL_ACCOUNT_STATE_FAILED);

  gtk_label_set_label (self->banner_label, message ? message : "");
  gtk_image_set_from_icon_name (self->banner_icon, icon);
  /* A refusal or bad settings are fixed in Preferences; a lost connection
   * comes back by itself, or now on request. */
  if (state == PL_ACCOUNT_STATE_FAILED) {
    gtk_button_set_label (self->banner_button, _("_Preferences"));
    gtk_actionable_set_action_name (GTK_ACTIONABLE (self->banner_button), "app.preferences");
  } else {
    gtk_button_set_label (self->banner_button, _("_Reconnect"));
    gtk_actionable_set_action_name (GTK_ACTIONABLE (self->banner_button), "app.reconnect");
  }
  gtk_revealer_set_reveal_child (self->banner_revealer, show_banner && message != NULL);

  gtk_label_set_label (self->account_status, status);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->account_row),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  message ? message : status, -1);
  log_account (self);
}

static void
on_account_call_added (PlAccount *account,
                       PlCall    *call,
                       PlWindow  *self)
{
  GtkWidget *row = pl_call_row_new (call);
  PlEvent *ev;

  gtk_list_box_append (self->calls_list, row);
  ev = pl_event_log_begin ("row-added");
  pl_event_log_add_string (ev, "peer", pl_call_get_peer (call));
  pl_event_log_add_string (ev, "direction",
                           pl_call_direction_to_string (pl_call_get_direction (call)));
  pl_event_log_end (ev);

  /* An incoming call: show the phone page, answer is one Tab away. */
  if (pl_call_get_direction (call) == PL_CALL_DIRECTION_INCOMING)
    adw_view_stack_set_visible_child_name (self->stack, "phone");
}

static GtkWidget *
create_history_row (gpointer item,
                    gpointer user_data)
{
  PlHistoryEntry *entry = item;
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *icon;
  GtkWidget *redial;
  g_autofree char *when = g_date_time_format (pl_history_entry_get_started (entry), "%X");
  g_autofree char *duration = pl_format_duration (pl_history_entry_get_duration (entry));
  g_autofree char *subtitle = NULL;
  g_autofree char *redial_label = NULL;
  const char *icon_name;
  const char *direction;
  PlEvent *ev;
  gboolean incoming = pl_history_entry_get_direction (entry) == PL_CALL_DIRECTION_INCOMING;

  if (incoming && !pl_history_entry_get_answered (entry))
    icon_name = "call-missed-symbolic";
  else
    icon_name = incoming ? "call-incoming-symbolic" : "call-outgoing-symbolic";
  direction = incoming ? _("Incoming") : _("Outgoing");

  /* Translators: "Outgoing · 14:03:12 · 0:42 · Hung up": direction, time of
   * day, how long it lasted, how it ended */
  subtitle = g_strdup_printf (_("%s · %s · %s · %s"), direction, when, duration,
                              pl_call_row_describe_reason (pl_history_entry_get_reason (entry)));
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), pl_history_entry_get_peer (entry));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);

  icon = gtk_image_new_from_icon_name (icon_name);
  gtk_accessible_update_property (GTK_ACCESSIBLE (icon), GTK_ACCESSIBLE_PROPERTY_LABEL, direction,
                                  -1);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);

  redial = gtk_button_new_from_icon_name ("call-start-symbolic");
  gtk_widget_set_valign (redial, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (redial, "flat");
  /* Translators: %s is a phone number */
  redial_label = g_strdup_printf (_("Call %s"), pl_history_entry_get_peer (entry));
  gtk_widget_set_tooltip_text (redial, redial_label);
  gtk_accessible_update_property (GTK_ACCESSIBLE (redial), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  redial_label, -1);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (redial), "app.dial");
  gtk_actionable_set_action_target (GTK_ACTIONABLE (redial), "s",
                                    pl_history_entry_get_peer (entry));
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), redial);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), redial);

  ev = pl_event_log_begin ("history");
  pl_event_log_add_string (ev, "peer", pl_history_entry_get_peer (entry));
  pl_event_log_add_string (ev, "direction", incoming ? "incoming" : "outgoing");
  pl_event_log_add_string (ev, "reason", pl_history_entry_get_reason (entry));
  pl_event_log_add_int (ev, "duration_s", pl_history_entry_get_duration (entry));
  pl_event_log_add_string (ev, "subtitle", subtitle);
  pl_event_log_end (ev);

  return row;
}

static void
dial_entry (PlWindow *self)
{
  g_autofree char *text = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->number_entry)));
  g_auto(GStrv) numbers = pl_dial_parse_numbers (text, pl_account_get_number (self->account), NULL);

  g_action_group_activate_action (G_ACTION_GROUP (gtk_window_get_application (GTK_WINDOW (self))),
                                  "dial", g_variant_new_string (text));

  /* Numbers that are being called leave the entry; a mistake stays there
   * to be corrected (the message says what is wrong). */
  if (numbers != NULL && pl_account_get_state (self->account) == PL_ACCOUNT_STATE_REGISTERED)
    gtk_editable_set_text (GTK_EDITABLE (self->number_entry), "");
}

static void
on_number_entry_activate (PlWindow *self)
{
  dial_entry (self);
}

static void
on_call_button_clicked (PlWindow *self)
{
  dial_entry (self);
}

static void
on_number_entry_icon_press (GtkEntry            *entry,
                            GtkEntryIconPosition position,
                            PlWindow            *self)
{
  gtk_editable_set_text (GTK_EDITABLE (entry), "");
  gtk_widget_grab_focus (GTK_WIDGET (entry));
}

static void
on_number_entry_changed (PlWindow *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->number_entry));

  gtk_entry_set_icon_from_icon_name (self->number_entry, GTK_ENTRY_ICON_SECONDARY,
                                     *text ? "edit-clear-symbolic" : NULL);
}

/* Typing and pasting go through pl_dial_filter_text (). */
static void
on_number_insert_text (GtkEditable *editable,
                       const char  *text,
                       int          length,
                       int         *position,
                       PlWindow    *self)
{
  g_autofree char *copy = g_strndup (text, length < 0 ? strlen (text) : (gsize) length);
  g_autofree char *filtered = pl_dial_filter_text (copy);

  if (g_str_equal (filtered, copy))
    return;

  g_signal_handlers_block_by_func (editable, on_number_insert_text, self);
  gtk_editable_insert_text (editable, filtered, -1, position);
  g_signal_handlers_unblock_by_func (editable, on_number_insert_text, self);
  g_signal_stop_emission_by_name (editable, "insert-text");
}

static void
on_pad_key_clicked (GtkButton *button,
                    PlWindow  *self)
{
  const char *text = g_object_get_data (G_OBJECT (button), "pl-key");
  GtkEditable *editable = GTK_EDITABLE (self->number_entry);
  int position = gtk_editable_get_position (editable);
  int start, end;

  if (gtk_editable_get_selection_bounds (editable, &start, &end)) {
    gtk_editable_delete_text (editable, start, end);
    position = start;
  }
  gtk_editable_insert_text (editable, g_str_equal (text, ",") ? ", " : text, -1, &position);
  gtk_editable_set_position (editable, position);
}

static void
build_dial_pad (PlWindow *self)
{
  for (guint i = 0; i < G_N_ELEMENTS (pad_keys); i++) {
    GtkWidget *button = gtk_button_new_with_label (pad_keys[i].text);

    g_object_set_data (G_OBJECT (button), "pl-key", (gpointer) pad_keys[i].text);
    gtk_widget_set_focus_on_click (button, FALSE);
    gtk_widget_set_size_request (button, 64, 48);
    gtk_widget_add_css_class (button, "pl-dial-key");
    if (pad_keys[i].accessible != NULL)
      gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      _(pad_keys[i].accessible), -1);
    g_signal_connect_object (button, "clicked", G_CALLBACK (on_pad_key_clicked), self, 0);
    gtk_grid_attach (self->dial_pad, button, i % 3, i / 3, 1, 1);
  }
}

static void
focus_entry_activated (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  PlWindow *self = PL_WINDOW (widget);

  adw_view_stack_set_visible_child_name (self->stack, "phone");
  gtk_widget_grab_focus (GTK_WIDGET (self->number_entry));
}

static void
show_page_activated (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  PlWindow *self = PL_WINDOW (widget);

  adw_view_stack_set_visible_child_name (self->stack, g_variant_get_string (parameter, NULL));
}

static void
pl_window_dispose (GObject *object)
{
  PlWindow *self = PL_WINDOW (object);

  if (self->account != NULL)
    g_signal_handlers_disconnect_by_data (self->account, self);
  g_clear_object (&self->account);
  g_clear_pointer (&self->account_shown, g_free);

  gtk_widget_dispose_template (GTK_WIDGET (self), PL_TYPE_WINDOW);

  G_OBJECT_CLASS (pl_window_parent_class)->dispose (object);
}

static void
pl_window_class_init (PlWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pl_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/partyline/Partyline/pl-window.ui");
  gtk_widget_class_bind_template_child (widget_class, PlWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, PlWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, PlWindow, banner_revealer);
  gtk_widget_class_bind_template_child (widget_class, PlWindow, banner_icon);
  gtk_widget_class_bind_template_child (widget_class, PlWindow, banner_label);
  gtk_widget_class_bind_template_child (widget_class, PlWindow, banner_button);
  gtk_widget_class_bind_template_child (widget_class, PlWindow, account_row);
  gtk_widget_class_bind_template_child (widget_class, PlWindow, account_icon);
  gtk_widget_class_bind_template_child (widget_class, PlWindow, account_status);
  gtk_widget_class_bind_template_child (widget_class, PlWindow, reconnect_button);
  gtk_widget_class_bind_template_child (widget_class, PlWindow, number_entry);
  gtk_widget_class_bind_template_child (widget_class, PlWindow, dial_pad);
  gtk_widget_class_bind_template_child (widget_class, PlWindow, call_button);
  gtk_widget_class_bind_template_child (widget_class, PlWindow, hang_up_all_button);
  gtk_widget_class_bind_template_child (widget_class, PlWindow, calls_list);
  gtk_widget_class_bind_template_child (widget_class, PlWindow, history_list);

  gtk_widget_class_install_action (widget_class, "win.focus-entry", NULL, focus_entry_activated);
  gtk_widget_class_install_action (widget_class, "win.show-page", "s", show_page_activated);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_l, GDK_CONTROL_MASK,
                                       "win.focus-entry", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_1, GDK_ALT_MASK,
                                       "win.show-page", "s", "phone");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_2, GDK_ALT_MASK,
                                       "win.show-page", "s", "history");
}

static void
pl_window_init (PlWindow *self)
{
  GtkEditable *delegate;

  gtk_widget_init_template (GTK_WIDGET (self));

  build_dial_pad (self);
  g_signal_connect_object (self->number_entry, "activate", G_CALLBACK (on_number_entry_activate),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->number_entry, "changed", G_CALLBACK (on_number_entry_changed),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->number_entry, "icon-press",
                           G_CALLBACK (on_number_entry_icon_press), self, 0);
  delegate = gtk_editable_get_delegate (GTK_EDITABLE (self->number_entry));
  g_signal_connect_object (delegate, "insert-text", G_CALLBACK (on_number_insert_text), self, 0);
  g_signal_connect_object (self->call_button, "clicked", G_CALLBACK (on_call_button_clicked), self,
                           G_CONNECT_SWAPPED);
  on_number_entry_changed (self);

  gtk_widget_grab_focus (GTK_WIDGET (self->number_entry));
}

/* The window shows @account, its calls, and @history. */
static void
setup (PlWindow   *self,
       PlAccount  *account,
       GListModel *history)
{
  self->account = g_object_ref (account);
  g_signal_connect_object (self->account, "notify::state", G_CALLBACK (update_account), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->account, "notify::message", G_CALLBACK (update_account), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->account, "notify::number", G_CALLBACK (update_account), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->account, "notify::server-url", G_CALLBACK (update_account), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->account, "call-added", G_CALLBACK (on_account_call_added), self,
                           0);

  gtk_list_box_bind_model (self->history_list, history, create_history_row, NULL, NULL);

  /* Calls that exist already (the window was closed and opened again). */
  if (pl_account_get_line (self->account) != NULL) {
    g_autoptr(GPtrArray) calls = pl_line_get_calls (pl_account_get_line (self->account));

    for (guint i = 0; i < calls->len; i++)
      on_account_call_added (self->account, g_ptr_array_index (calls, i), self);
  }

  update_account (self);
}

PlWindow *
pl_window_new (GtkApplication *application,
               PlAccount      *account,
               GListModel     *history)
{
  PlWindow *self;

  g_return_val_if_fail (GTK_IS_APPLICATION (application), NULL);
  g_return_val_if_fail (PL_IS_ACCOUNT (account), NULL);
  g_return_val_if_fail (G_IS_LIST_MODEL (history), NULL);

  self = g_object_new (PL_TYPE_WINDOW, "application", application, NULL);
  setup (self, account, history);

  return self;
}

void
pl_window_show_message (PlWindow   *self,
                        const char *message,
                        const char *button_label,
                        const char *action_name)
{
  AdwToast *toast;

  g_return_if_fail (PL_IS_WINDOW (self));
  g_return_if_fail (message != NULL);

  toast = adw_toast_new (message);
  adw_toast_set_timeout (toast, 6);
  if (button_label != NULL && action_name != NULL) {
    adw_toast_set_button_label (toast, button_label);
    adw_toast_set_action_name (toast, action_name);
  }
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

guint
pl_window_count_rows (PlWindow *self)
{
  guint count = 0;

  g_return_val_if_fail (PL_IS_WINDOW (self), 0);

  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->calls_list));
       child != NULL; child = gtk_widget_get_next_sibling (child))
    count += PL_IS_CALL_ROW (child);

  return count;
}
