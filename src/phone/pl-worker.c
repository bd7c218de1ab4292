/* pl-worker.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "pl-worker"

#include "config.h"

#include "pl-worker.h"

#define MAX_WORKER_THREADS 8

typedef struct {
  GTask          *task;
  GTaskThreadFunc func;
} Job;

static void
run_job (gpointer data,
         gpointer user_data)
{
  Job *job = data;
  GTask *task = job->task;

  job->func (task, g_task_get_source_object (task), g_task_get_task_data (task),
             g_task_get_cancellable (task));

  g_object_unref (task);
  g_free (job);
}

static GThreadPool *
get_pool (void)
{
  static GThreadPool *pool;

  if (g_once_init_enter (&pool)) {
    GThreadPool *created = g_thread_pool_new (run_job, NULL, MAX_WORKER_THREADS, FALSE, NULL);

    g_once_init_leave (&pool, created);
  }

  return pool;
}

void
pl_worker_run_in_thread (GTask          *task,
                         GTaskThreadFunc func)
{
  Job *job;

  g_return_if_fail (G_IS_TASK (task));
  g_return_if_fail (func != NULL);

  job = g_new0 (Job, 1);
  job->task = g_object_ref (task);
  job->func = func;
  g_thread_pool_push (get_pool (), job, NULL);
}

static void
set_null_thread (GTask        *task,
                 gpointer      source_object,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  GstElement *pipeline = task_data;
  g_autofree char *name = gst_object_get_name (GST_OBJECT (pipeline));
  GstStateChangeReturn ret;

  ret = gst_element_set_state (pipeline, GST_STATE_NULL);

  /* Drop our ref here, while the caller still holds its own: the last ref of
   * a webrtcbin must be dropped on the main thread (docs/webrtcbin-1.22.md, bug 13),
   * and this GTask may well be freed on this thread. */
  g_task_set_task_data (task, NULL, NULL);

  if (ret == GST_STATE_CHANGE_FAILURE)
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s did not reach NULL", name);
  else
    g_task_return_boolean (task, TRUE);
}

void
pl_worker_set_null_async (GstElement         *pipeline,
                          GAsyncReadyCallback callback,
                          gpointer            user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (GST_IS_ELEMENT (pipeline));

  task = g_task_new (NULL, NULL, callback, user_data);
  g_task_set_source_tag (task, pl_worker_set_null_async);
  g_task_set_task_data (task, gst_object_ref (pipeline), gst_object_unref);
  pl_worker_run_in_thread (task, set_null_thread);
}

gboolean
pl_worker_set_null_finish (GAsyncResult *result,
                           GError      **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
