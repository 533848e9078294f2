/* A stand-in for Windows' bcryptprimitives.dll, for running the Windows build under Wine 8
 * in tests only (never shipped): Rust's standard library asks it for ProcessPrng, which Wine 8
 * lacks. It forwards to RtlGenRandom (advapi32's SystemFunction036), which Wine has.
 * Built by scripts/windows-check with mingw-w64. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x40000000 ? 0x40000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
