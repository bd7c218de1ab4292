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
#include "pl-media.h"
#include "pl-protocol.h"

#include <glib/gi18n.h>

#include <string.h>

/* The choices of the two audio rows: a spec (as the settings hold it; a
 * trailing ':' asks for a file or folder), and what people read. Devices
 * come between the default and the others once they are listed. */
typedef struct {
  char *spec;
  char *label;
} Choice;

static void
choice_clear (gpointer data)
{
  Choice *choice = data;

  g_free (choice->spec);
  g_free (choice->label);
}

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
  GCancellable         *cancellable;    /* listing the devices */
  GStrv                 inputs;         /* the audio devices, once listed */
  GStrv                 outputs;
  GArray               *source_choices; /* Choice, as in source_row */
  GArray               *sink_choices;
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

static void
add_choice (GArray     *choices,
            const char *spec,
            const char *label)
{
  Choice choice = { g_strdup (spec), g_strdup (label) };

  g_array_append_val (choices, choice);
}

/* Rebuilds @row's choices; returns the position of @current. */
static guint
fill_choices (AdwComboRow *row,
              GArray      *choices,
              gboolean     sources,
              GStrv        devices,
              const char  *current)
{
  g_autoptr(GtkStringList) model = gtk_string_list_new (NULL);
  guint selected = 0;
  gboolean current_listed = FALSE;

  g_array_set_size (choices, 0);
  add_choice (choices, "auto", sources ? _("Default microphone") : _("Default speakers"));
  for (guint i = 0; devices && devices[i]; i++) {
    g_autofree char *spec = g_strconcat ("device:", devices[i], NULL);

    current_listed |= g_str_equal (spec, current);
    add_choice (choices, spec, devices[i]);
  }
  /* A device chosen earlier that is not connected now. */
  if (g_str_has_prefix (current, "device:") && !current_listed) {
    g_autofree char *label = NULL;

    /* Translators: %s is the name of a microphone or speakers */
    label = g_strdup_printf (_("%s (not connected)"), current + strlen ("device:"));
    add_choice (choices, current, label);
  }
  if (sources) {
    add_choice (choices, "tone:", _("Test tone"));
    add_choice (choices, "silence", _("Silence"));
    add_choice (choices, "file:", _("Audio file…"));
  } else {
    add_choice (choices, "fake", _("Nowhere (discard)"));
    add_choice (choices, "record:", _("Record to a folder…"));
  }

  for (guint i = 0; i < choices->len; i++) {
    Choice *choice = &g_array_index (choices, Choice, i);
    gsize length = strlen (choice->spec);

    gtk_string_list_append (model, choice->label);
    if (g_str_equal (choice->spec, current) ||
        (choice->spec[length - 1] == ':' && g_str_has_prefix (current, choice->spec)))
      selected = i;
  }
  adw_combo_row_set_model (row, G_LIST_MODEL (model));

  return selected;
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
  guint source_index, sink_index;

  self->updating = TRUE;

  gtk_editable_set_text (GTK_EDITABLE (self->server_row), server);
  gtk_editable_set_text (GTK_EDITABLE (self->number_row), number);
  gtk_editable_set_text (GTK_EDITABLE (self->token_row), token);
  gtk_editable_set_text (GTK_EDITABLE (self->stun_row), stun);
  gtk_editable_set_text (GTK_EDITABLE (self->turn_row), turn);
  gtk_editable_set_text (GTK_EDITABLE (self->addresses_row), addresses_text);

  source_index = fill_choices (self->source_row, self->source_choices, TRUE, self->inputs,
                               source);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->source_row),
                               g_str_has_prefix (source, "tone:") || g_str_has_prefix (source, "file:")
                               ? source : "");
  adw_combo_row_set_selected (self->source_row, source_index);

  sink_index = fill_choices (self->sink_row, self->sink_choices, FALSE, self->outputs, sink);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->sink_row),
                               g_str_has_prefix (sink, "record:") ? sink + strlen ("record:") : "");
  adw_combo_row_set_selected (self->sink_row, sink_index);

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
on_audio_selected (PlPreferencesWindow *self,
                   GParamSpec          *pspec,
                   AdwComboRow         *row)
{
  gboolean sources = row == self->source_row;
  GArray *choices = sources ? self->source_choices : self->sink_choices;
  const char *key = sources ? "audio-source" : "audio-sink";
  guint selected = adw_combo_row_get_selected (row);
  g_autofree char *current = g_settings_get_string (self->settings, key);
  const char *spec;

  if (self->updating || selected >= choices->len)
    return;

  spec = g_array_index (choices, Choice, selected).spec;
  if (g_str_equal (spec, "file:") || g_str_equal (spec, "record:")) {
    if (!g_str_has_prefix (current, spec))
      choose_file (self, !sources);
  } else if (g_str_equal (spec, "tone:")) {
    if (!g_str_has_prefix (current, "tone:"))
      g_settings_set_string (self->settings, key, "tone:440");
  } else {
    g_settings_set_string (self->settings, key, spec);
  }
  load (self);
}

static void
list_devices_thread (GTask        *task,
                     gpointer      source_object,
                     gpointer      task_data,
                     GCancellable *cancellable)
{
  GStrv *lists = g_new0 (GStrv, 2);

  lists[0] = pl_media_list_devices (TRUE);
  lists[1] = pl_media_list_devices (FALSE);
  g_task_return_pointer (task, lists, NULL);
}

static void
list_devices_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autofree GStrv *lists = g_task_propagate_pointer (G_TASK (result), NULL);
  PlPreferencesWindow *self;

  if (lists == NULL)
    return;
  if (g_task_had_error (G_TASK (result)) || g_cancellable_is_cancelled (g_task_get_cancellable (G_TASK (result)))) {
    g_strfreev (lists[0]);
    g_strfreev (lists[1]);
    return;
  }

  self = PL_PREFERENCES_WINDOW (object);
  g_strfreev (self->inputs);
  g_strfreev (self->outputs);
  self->inputs = lists[0];
  self->outputs = lists[1];
  load (self);
}

static void
pl_preferences_window_dispose (GObject *object)
{
  PlPreferencesWindow *self = PL_PREFERENCES_WINDOW (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->chooser != NULL)
    gtk_native_dialog_destroy (self->chooser);
  g_clear_object (&self->chooser);
  g_clear_object (&self->settings);

  gtk_widget_dispose_template (GTK_WIDGET (self), PL_TYPE_PREFERENCES_WINDOW);

  G_OBJECT_CLASS (pl_preferences_window_parent_class)->dispose (object);
}

static void
pl_preferences_window_finalize (GObject *object)
{
  PlPreferencesWindow *self = PL_PREFERENCES_WINDOW (object);

  g_strfreev (self->inputs);
  g_strfreev (self->outputs);
  g_clear_pointer (&self->source_choices, g_array_unref);
  g_clear_pointer (&self->sink_choices, g_array_unref);

  G_OBJECT_CLASS (pl_preferences_window_parent_class)->finalize (object);
}

static void
pl_preferences_window_class_init (PlPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pl_preferences_window_dispose;
  object_class->finalize = pl_preferences_window_finalize;

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
  self->source_choices = g_array_new (FALSE, TRUE, sizeof (Choice));
  g_array_set_clear_func (self->source_choices, choice_clear);
  self->sink_choices = g_array_new (FALSE, TRUE, sizeof (Choice));
  g_array_set_clear_func (self->sink_choices, choice_clear);

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
  g_signal_connect_object (self->source_row, "notify::selected", G_CALLBACK (on_audio_selected),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->sink_row, "notify::selected", G_CALLBACK (on_audio_selected),
                           self, G_CONNECT_SWAPPED);

  /* The devices, listed on a worker thread (the device monitor blocks). */
  {
    g_autoptr(GTask) task = NULL;

    self->cancellable = g_cancellable_new ();
    task = g_task_new (self, self->cancellable, list_devices_cb, NULL);
    g_task_set_source_tag (task, pl_preferences_window_new);
    g_task_run_in_thread (task, list_devices_thread);
  }

  return self;
}
