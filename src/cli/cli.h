/*
 * cli.h — the `mmx` subcommands.  Each lives in its own src/cli/cmd_<name>.c and is called by main.c
 * with argv[0] = the subcommand name.  Returns the process exit code (0 ok, 1 runtime error, 2 usage).
 */
#ifndef MMX_CLI_H
#define MMX_CLI_H

int mmx_cmd_logits(int argc, char **argv);
int mmx_cmd_generate(int argc, char **argv);
int mmx_cmd_info(int argc, char **argv);
int mmx_cmd_tokenize(int argc, char **argv);
int mmx_cmd_detokenize(int argc, char **argv);
int mmx_cmd_template(int argc, char **argv);
int mmx_cmd_run(int argc, char **argv);
int mmx_cmd_chat(int argc, char **argv);
int mmx_cmd_bench(int argc, char **argv);
int mmx_cmd_quantize(int argc, char **argv);

#endif
