/* pl-teardown.c — being written */
