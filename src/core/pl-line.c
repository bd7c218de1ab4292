/* pl-line.c — being written */
