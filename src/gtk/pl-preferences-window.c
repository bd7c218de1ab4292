/* pl-preferences-window.c
 *
 * Every entry is checked when applied (Enter or the check mark): a value
 * that cannot work is not saved; the row is marked and a message says why.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "pl-preferences-window"

#include "config.h"

#include "pl-preferences-window.h"
#include "pl-dial-util.h"
#include "pl-event-log.h"
#include "pl-protocol.h"

#include <glib/gi18n.h>

#include <string.h>

enum {
  SOURCE_AUTO,
  SOURCE_TONE,
  SOURCE_SILENCE,
  SOURCE_FILE,
};

enum {
  SINK_AUTO,
  SINK_FAKE,
  SINK_RECORD,
};

struct _PlPreferencesWindow
{
  AdwPreferencesWindow  parent_instance;

  GSettings            *settings;
  gboolean              updating;

  AdwEntryRow          *server_row;
  AdwEntryRow          *number_row;
  AdwEntryRow          *token_row;
  GtkSwitch            *auto_answer_switch;
  AdwComboRow          *source_row;
  AdwComboRow          *sink_row;
  AdwEntryRow          *stun_row;
  AdwEntryRow          *turn_row;
  AdwEntryRow          *addresses_row;
  GtkNativeDialog      *chooser;
};

G_DEFINE_FINAL_TYPE (PlPreferencesWindow, pl_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

static void
report (PlPreferencesWindow *self,
        GtkWidget           *row,
        const char          *error_message)
{
  PlEvent *ev;

  if (error_message == NULL) {
    gtk_widget_remove_css_class (row, "error");
    gtk_accessible_reset_state (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_STATE_INVALID);
    return;
  }

  gtk_widget_add_css_class (row, "error");
  gtk_accessible_update_state (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_STATE_INVALID,
                               GTK_ACCESSIBLE_INVALID_TRUE, -1);
  adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self), adw_toast_new (error_message));

  ev = pl_event_log_begin ("message");
  pl_event_log_add_string (ev, "text", error_message);
  pl_event_log_end (ev);
}

static void
on_server_apply (PlPreferencesWindow *self)
{
  g_autofree char *url = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->server_row))));
  g_autoptr(GError) error = NULL;

  if (!pl_check_server_url (url, &error)) {
    report (self, GTK_WIDGET (self->server_row), error->message);
    return;
  }
  report (self, GTK_WIDGET (self->server_row), NULL);
  g_settings_set_string (self->settings, "server-url", url);
}

static void
on_number_apply (PlPreferencesWindow *self)
{
  g_autofree char *number = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->number_row))));

  if (!pl_number_is_valid (number)) {
    g_autofree char *message = NULL;

    /* Translators: %s is the number the user typed */
    message = g_strdup_printf (_("“%s” is not a valid number: use 1 to 32 letters, digits, or _ . + -"),
                               number);
    report (self, GTK_WIDGET (self->number_row), message);
    return;
  }
  report (self, GTK_WIDGET (self->number_row), NULL);
  g_settings_set_string (self->settings, "number", number);
}

static void
on_token_apply (PlPreferencesWindow *self)
{
  g_settings_set_string (self->settings, "token",
                         gtk_editable_get_text (GTK_EDITABLE (self->token_row)));
}

static void
apply_ice_server (PlPreferencesWindow *self,
                  AdwEntryRow         *row,
                  const char          *key,
                  gboolean             turn)
{
  g_autofree char *uri = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (row))));
  g_autoptr(GError) error = NULL;

  if (!pl_check_ice_server (uri, turn, &error)) {
    report (self, GTK_WIDGET (row), error->message);
    return;
  }
  report (self, GTK_WIDGET (row), NULL);
  g_settings_set_string (self->settings, key, uri);
}

static void
on_stun_apply (PlPreferencesWindow *self)
{
  apply_ice_server (self, self->stun_row, "stun-server", FALSE);
}

static void
on_turn_apply (PlPreferencesWindow *self)
{
  apply_ice_server (self, self->turn_row, "turn-server", TRUE);
}

static void
on_addresses_apply (PlPreferencesWindow *self)
{
  g_auto(GStrv) items = g_strsplit_set (gtk_editable_get_text (GTK_EDITABLE (self->addresses_row)),
                                        ", ", -1);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) addresses = NULL;

  for (guint i = 0; items[i]; i++) {
    g_autoptr(GInetAddress) address = NULL;

    if (*items[i] == '\0')
      continue;
    address = g_inet_address_new_from_string (items[i]);
    if (address == NULL) {
      g_autofree char *message = NULL;

      /* Translators: %s is what the user typed */
      message = g_strdup_printf (_("“%s” is not an IP address"), items[i]);
      report (self, GTK_WIDGET (self->addresses_row), message);
      return;
    }
    g_strv_builder_add (builder, items[i]);
  }

  addresses = g_strv_builder_end (builder);
  report (self, GTK_WIDGET (self->addresses_row), NULL);
  g_settings_set_strv (self->settings, "ice-addresses", (const char * const *) addresses);
}

/* Shows the settings in the rows. */
static void
load (PlPreferencesWindow *self)
{
  g_autofree char *server = g_settings_get_string (self->settings, "server-url");
  g_autofree char *number = g_settings_get_string (self->settings, "number");
  g_autofree char *token = g_settings_get_string (self->settings, "token");
  g_autofree char *stun = g_settings_get_string (self->settings, "stun-server");
  g_autofree char *turn = g_settings_get_string (self->settings, "turn-server");
  g_autofree char *source = g_settings_get_string (self->settings, "audio-source");
  g_autofree char *sink = g_settings_get_string (self->settings, "audio-sink");
  g_auto(GStrv) addresses = g_settings_get_strv (self->settings, "ice-addresses");
  g_autofree char *addresses_text = g_strjoinv (", ", addresses);
  guint source_index = SOURCE_AUTO, sink_index = SINK_AUTO;

  self->updating = TRUE;

  gtk_editable_set_text (GTK_EDITABLE (self->server_row), server);
  gtk_editable_set_text (GTK_EDITABLE (self->number_row), number);
  gtk_editable_set_text (GTK_EDITABLE (self->token_row), token);
  gtk_editable_set_text (GTK_EDITABLE (self->stun_row), stun);
  gtk_editable_set_text (GTK_EDITABLE (self->turn_row), turn);
  gtk_editable_set_text (GTK_EDITABLE (self->addresses_row), addresses_text);

  if (g_str_has_prefix (source, "tone:"))
    source_index = SOURCE_TONE;
  else if (g_str_equal (source, "silence"))
    source_index = SOURCE_SILENCE;
  else if (g_str_has_prefix (source, "file:"))
    source_index = SOURCE_FILE;
  adw_combo_row_set_selected (self->source_row, source_index);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->source_row),
                               source_index == SOURCE_AUTO ? "" : source);

  if (g_str_equal (sink, "fake"))
    sink_index = SINK_FAKE;
  else if (g_str_has_prefix (sink, "record:"))
    sink_index = SINK_RECORD;
  adw_combo_row_set_selected (self->sink_row, sink_index);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->sink_row),
                               sink_index == SINK_RECORD ? sink + strlen ("record:") : "");

  self->updating = FALSE;
}

static void
on_chooser_response (GtkNativeDialog     *dialog,
                     int                  response,
                     PlPreferencesWindow *self)
{
  gboolean folder = gtk_file_chooser_get_action (GTK_FILE_CHOOSER (dialog)) ==
                    GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER;

  if (response == GTK_RESPONSE_ACCEPT) {
    g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
    g_autofree char *path = file ? g_file_get_path (file) : NULL;

    if (path != NULL) {
      g_autofree char *spec = g_strconcat (folder ? "record:" : "file:", path, NULL);

      g_settings_set_string (self->settings, folder ? "audio-sink" : "audio-source", spec);
    }
  }

  g_clear_object (&self->chooser);
  load (self);
}

static void
choose_file (PlPreferencesWindow *self,
             gboolean             folder)
{
  if (self->chooser != NULL)
    return;

  self->chooser = GTK_NATIVE_DIALOG (
    gtk_file_chooser_native_new (folder ? _("Record Calls To") : _("Audio File to Send"),
                                 GTK_WINDOW (self),
                                 folder ? GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER
                                        : GTK_FILE_CHOOSER_ACTION_OPEN,
                                 _("_Select"), _("_Cancel")));
  gtk_native_dialog_set_modal (self->chooser, TRUE);
  g_signal_connect_object (self->chooser, "response", G_CALLBACK (on_chooser_response), self, 0);
  gtk_native_dialog_show (self->chooser);
}

static void
on_source_selected (PlPreferencesWindow *self)
{
  g_autofree char *current = g_settings_get_string (self->settings, "audio-source");

  if (self->updating)
    return;

  switch (adw_combo_row_get_selected (self->source_row)) {
  case SOURCE_AUTO:
    g_settings_set_string (self->settings, "audio-source", "auto");
    break;
  case SOURCE_TONE:
    if (!g_str_has_prefix (current, "tone:"))
      g_settings_set_string (self->settings, "audio-source", "tone:440");
    break;
  case SOURCE_SILENCE:
    g_settings_set_string (self->settings, "audio-source", "silence");
    break;
  case SOURCE_FILE:
    choose_file (self, FALSE);
    break;
  default:
    break;
  }
  load (self);
}

static void
on_sink_selected (PlPreferencesWindow *self)
{
  if (self->updating)
    return;

  switch (adw_combo_row_get_selected (self->sink_row)) {
  case SINK_AUTO:
    g_settings_set_string (self->settings, "audio-sink", "auto");
    break;
  case SINK_FAKE:
    g_settings_set_string (self->settings, "audio-sink", "fake");
    break;
  case SINK_RECORD:
    choose_file (self, TRUE);
    break;
  default:
    break;
  }
  load (self);
}

static void
pl_preferences_window_dispose (GObject *object)
{
  PlPreferencesWindow *self = PL_PREFERENCES_WINDOW (object);

  if (self->chooser != NULL)
    gtk_native_dialog_destroy (self->chooser);
  g_clear_object (&self->chooser);
  g_clear_object (&self->settings);

  gtk_widget_dispose_template (GTK_WIDGET (self), PL_TYPE_PREFERENCES_WINDOW);

  G_OBJECT_CLASS (pl_preferences_window_parent_class)->dispose (object);
}

static void
pl_preferences_window_class_init (PlPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pl_preferences_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/partyline/Partyline/pl-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, PlPreferencesWindow, server_row);
  gtk_widget_class_bind_template_child (widget_class, PlPreferencesWindow, number_row);
  gtk_widget_class_bind_template_child (widget_class, PlPreferencesWindow, token_row);
  gtk_widget_class_bind_template_child (widget_class, PlPreferencesWindow, auto_answer_switch);
  gtk_widget_class_bind_template_child (widget_class, PlPreferencesWindow, source_row);
  gtk_widget_class_bind_template_child (widget_class, PlPreferencesWindow, sink_row);
  gtk_widget_class_bind_template_child (widget_class, PlPreferencesWindow, stun_row);
  gtk_widget_class_bind_template_child (widget_class, PlPreferencesWindow, turn_row);
  gtk_widget_class_bind_template_child (widget_class, PlPreferencesWindow, addresses_row);
}

static void
pl_preferences_window_init (PlPreferencesWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

PlPreferencesWindow *
pl_preferences_window_new (GSettings *settings)
{
  PlPreferencesWindow *self;

  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  self = g_object_new (PL_TYPE_PREFERENCES_WINDOW, NULL);
  self->settings = g_object_ref (settings);
  load (self);

  g_settings_bind (settings, "auto-answer", self->auto_answer_switch, "active",
                   G_SETTINGS_BIND_DEFAULT);
  g_signal_connect_object (self->server_row, "apply", G_CALLBACK (on_server_apply), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->number_row, "apply", G_CALLBACK (on_number_apply), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->token_row, "apply", G_CALLBACK (on_token_apply), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->stun_row, "apply", G_CALLBACK (on_stun_apply), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->turn_row, "apply", G_CALLBACK (on_turn_apply), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->addresses_row, "apply", G_CALLBACK (on_addresses_apply), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->source_row, "notify::selected", G_CALLBACK (on_source_selected),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->sink_row, "notify::selected", G_CALLBACK (on_sink_selected), self,
                           G_CONNECT_SWAPPED);

  return self;
}
