/* sampler.h — the sampler chain and stop conditions; declared in mmx.h. */
#ifndef MMX_SAMPLER_H
#define MMX_SAMPLER_H

#include "mmx.h"

#endif
