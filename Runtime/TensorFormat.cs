using System.Globalization;
using System.Text;

namespace Dsl;

/// <summary>
/// <see cref="Tensor.ToString"/>: the values laid out as PyTorch's <c>repr</c> lays them out (<c>torch/_tensor_str.py</c>),
/// followed by the shape, dtype and device. Float values share one format chosen from the finite non-zero values shown:
/// whole numbers print as <c>3.</c>; otherwise 4 decimals, or scientific notation (<c>1.0000e-05</c>) when the largest
/// magnitude exceeds 1e8, the smallest is below 1e-4, or their ratio exceeds 1000. Past 1,000 elements each dimension
/// longer than 6 shows its first and last 3 entries around <c>...</c>. PyTorch's 80-column wrapping of long rows is not
/// reproduced.
/// </summary>
internal static class TensorFormat
{
    private const long Threshold = 1000;
    private const int EdgeItems = 3;
    private const string Prefix = "tensor(";

    public static string Format(Tensor t)
    {
        string suffix = $"shape={Tensor.FormatShape(t.Dims)}, dtype={t.DType.ToString().ToLowerInvariant()}, device='{t.Device.Name}'";
        double[] values;
        try
        {
            values = Read(t);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or ObjectDisposedException or NotSupportedException)
        {
            // ToString runs inside error messages and debuggers: it reports why the values are missing instead of throwing.
            return $"{Prefix}<values unavailable: {e.Message}>, {suffix})";
        }
        if (t.Length == 0)
        {
            return $"{Prefix}[], {suffix})";
        }
        var dims = t.Dims.ToArray();
        bool summarize = t.Length > Threshold;
        var shown = new List<double>();
        Walk(dims, 0, 0, summarize, values, shown);
        var element = ElementFormatter(shown, t.DType != DType.Float32);
        var sb = new StringBuilder(Prefix);
        if (dims.Length == 0)
        {
            sb.Append(element(values[0]).Trim());
        }
        else
        {
            Append(sb, dims, 0, 0, summarize, values, element, Pad(shown, element));
        }
        return sb.Append(", ").Append(suffix).Append(')').ToString();
    }

    private static double[] Read(Tensor t)
    {
        switch (t.DType)
        {
            case DType.Float32:
                return Array.ConvertAll(t.ToArray(), v => (double)v);
            case DType.Int64:
                return Array.ConvertAll(t.ToInt64Array(), v => (double)v);
            case DType.Int32:
                var ints = new int[t.Length];
                t.Device.Download(t.Contiguous(), ints);
                return Array.ConvertAll(ints, v => (double)v);
            default:
                throw new NotSupportedException($"printing {t.DType} values is not supported");
        }
    }

    /// <summary>The indices of one dimension that are printed; -1 stands for the <c>...</c>.</summary>
    private static IEnumerable<int> Shown(int size, bool summarize)
    {
        if (!summarize || size <= 2 * EdgeItems)
        {
            for (int i = 0; i < size; i++)
            {
                yield return i;
            }
            yield break;
        }
        for (int i = 0; i < EdgeItems; i++)
        {
            yield return i;
        }
        yield return -1;
        for (int i = size - EdgeItems; i < size; i++)
        {
            yield return i;
        }
    }

    private static long Stride(int[] dims, int d)
    {
        long s = 1;
        for (int i = d + 1; i < dims.Length; i++)
        {
            s *= dims[i];
        }
        return s;
    }

    private static void Walk(int[] dims, int d, long offset, bool summarize, double[] values, List<double> shown)
    {
        if (d == dims.Length)
        {
            shown.Add(values[offset]);
            return;
        }
        long stride = Stride(dims, d);
        foreach (int i in Shown(dims[d], summarize))
        {
            if (i >= 0)
            {
                Walk(dims, d + 1, offset + i * stride, summarize, values, shown);
            }
        }
    }

    private static Func<double, string> ElementFormatter(List<double> shown, bool integerType)
    {
        var inv = CultureInfo.InvariantCulture;
        if (integerType)
        {
            return v => ((long)v).ToString(inv);
        }
        var finite = shown.Where(double.IsFinite).ToList();
        var nonZero = finite.Where(v => v != 0).Select(Math.Abs).ToList();
        bool wholeNumbers = finite.All(v => Math.Ceiling(v) == v);
        double max = nonZero.Count > 0 ? nonZero.Max() : 0;
        double min = nonZero.Count > 0 ? nonZero.Min() : 0;
        bool scientific = nonZero.Count > 0 && (max > 1e8 || (!wholeNumbers && min < 1e-4) || max / min > 1000);
        return v =>
        {
            if (double.IsNaN(v))
            {
                return "nan";
            }
            if (double.IsInfinity(v))
            {
                return v > 0 ? "inf" : "-inf";
            }
            if (scientific)
            {
                return v.ToString("0.0000e+00", inv);
            }
            return wholeNumbers ? v.ToString("0", inv) + "." : v.ToString("0.0000", inv);
        };
    }

    private static int Pad(List<double> shown, Func<double, string> element) => shown.Max(v => element(v).Length);

    private static void Append(StringBuilder sb, int[] dims, int d, long offset, bool summarize, double[] values, Func<double, string> element, int width)
    {
        sb.Append('[');
        long stride = Stride(dims, d);
        bool last = d == dims.Length - 1;
        string indent = new(' ', Prefix.Length + d + 1);
        // Between sub-tensors: a comma, one blank line per dimension below the next one, and the indent.
        string separator = last ? ", " : "," + new string('\n', dims.Length - d - 1) + indent;
        bool first = true;
        foreach (int i in Shown(dims[d], summarize))
        {
            if (!first)
            {
                sb.Append(separator);
            }
            first = false;
            if (i < 0)
            {
                sb.Append(last ? " ..." : "...");
            }
            else if (last)
            {
                sb.Append(element(values[offset + i * stride]).PadLeft(width));
            }
            else
            {
                Append(sb, dims, d + 1, offset + i * stride, summarize, values, element, width);
            }
        }
        sb.Append(']');
    }
}
