namespace Dsl.Devices.Cpu.Gemm;

/// <summary>
/// A row count known to the JIT: kernels generic over a struct implementing this are compiled once
/// per count, so the <c>if (T.Rows > r)</c> guards fold away and each M tail gets an exact kernel.
/// </summary>
internal interface IRowCount
{
    static abstract int Rows { get; }
}

internal struct Rows1 : IRowCount { public static int Rows => 1; }
internal struct Rows2 : IRowCount { public static int Rows => 2; }
internal struct Rows3 : IRowCount { public static int Rows => 3; }
internal struct Rows4 : IRowCount { public static int Rows => 4; }
internal struct Rows5 : IRowCount { public static int Rows => 5; }
internal struct Rows6 : IRowCount { public static int Rows => 6; }
internal struct Rows7 : IRowCount { public static int Rows => 7; }
internal struct Rows8 : IRowCount { public static int Rows => 8; }
internal struct Rows9 : IRowCount { public static int Rows => 9; }
internal struct Rows10 : IRowCount { public static int Rows => 10; }
internal struct Rows11 : IRowCount { public static int Rows => 11; }
internal struct Rows12 : IRowCount { public static int Rows => 12; }

/// <summary>
/// Whether a 512-bit micro-kernel computes both 16-column halves of its panel or only the first: a panel
/// of at most 16 valid columns (N = 10 outputs, narrow N tails) then costs half the multiply-adds.
/// </summary>
internal interface IPanelWidth
{
    static abstract bool Half { get; }
}

internal struct FullPanel : IPanelWidth { public static bool Half => false; }
internal struct HalfPanel : IPanelWidth { public static bool Half => true; }
