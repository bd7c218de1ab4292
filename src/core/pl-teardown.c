/* pl-teardown.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "pl-teardown"

#include "config.h"

#include "pl-teardown.h"

#define MAX_TEARDOWN_THREADS 8

static void
teardown_worker (gpointer data,
                 gpointer user_data)
{
  g_autoptr(GTask) task = data;
  GstElement *pipeline = g_task_get_task_data (task);
  GstStateChangeReturn ret;

  g_autofree char *name = NULL;

  ret = gst_element_set_state (pipeline, GST_STATE_NULL);
  name = gst_object_get_name (GST_OBJECT (pipeline));

  /* Drop our ref here, while the caller still holds its own: the last ref of
   * a webrtcbin must be dropped on the main thread (webrtcbin-1.22.md, bug 13),
   * and this GTask may well be freed on this thread. */
  g_task_set_task_data (task, NULL, NULL);

  if (ret == GST_STATE_CHANGE_FAILURE)
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s did not reach NULL", name);
  else
    g_task_return_boolean (task, TRUE);
}

static GThreadPool *
get_pool (void)
{
  static GThreadPool *pool;

  if (g_once_init_enter (&pool)) {
    GThreadPool *created = g_thread_pool_new (teardown_worker, NULL, MAX_TEARDOWN_THREADS,
                                              FALSE, NULL);
    g_once_init_leave (&pool, created);
  }

  return pool;
}

void
pl_teardown_to_null_async (GstElement         *pipeline,
                           GAsyncReadyCallback callback,
                           gpointer            user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (GST_IS_ELEMENT (pipeline));

  task = g_task_new (NULL, NULL, callback, user_data);
  g_task_set_source_tag (task, pl_teardown_to_null_async);
  g_task_set_task_data (task, gst_object_ref (pipeline), gst_object_unref);

  g_thread_pool_push (get_pool (), g_steal_pointer (&task), NULL);
}

gboolean
pl_teardown_to_null_finish (GAsyncResult *result,
                            GError      **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
