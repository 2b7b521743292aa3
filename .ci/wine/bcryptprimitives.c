/*
 * A stand-in for bcryptprimitives.dll, for running our Windows test binaries
 * under Wine 8 only. Rust's std imports ProcessPrng from it (Windows 10+);
 * Wine 8 does not ship it, so an unmodified windows-gnu exe exits 53 before
 * main. This forwards to RtlGenRandom (advapi32's SystemFunction036), which
 * Wine does implement. It is never shipped: the released exe runs against the
 * real DLL on real Windows.
 */
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
