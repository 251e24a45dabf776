using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;

namespace Dsl.Generator.Shapes;

/// <summary>
/// The rules the tensor operations on values share (issue 8): dimension indices counting the batch, PyTorch's
/// broadcasting over the per-sample dimensions (symbols compared exactly), element counts of symbolic shapes, and the
/// outcome of a rule with or without symbols. A value is [N, per-sample...]; a dimension index counts the batch as 0, so
/// per-sample dimension k is index k + 1 (negative indices count from the end, and the batch cannot be named).
/// </summary>
internal static class TensorShapes
{
    /// <summary>
    /// The per-sample axis named by <paramref name="dim"/> on a value with <paramref name="perSample"/> per-sample dimensions
    /// (extra: 1 for Unsqueeze, which may name the position after the last), or -1 when it names the batch or nothing.
    /// </summary>
    public static int Axis(long dim, int perSample, int extra = 0)
    {
        long rank = perSample + 1 + extra;
        long axis = (dim < 0 ? dim + rank : dim) - 1;
        return axis < 0 || axis >= perSample + extra ? -1 : (int)axis;
    }

    /// <summary>The dims a value of <paramref name="perSample"/> per-sample dimensions accepts, for messages.</summary>
    public static string Range(int perSample, int extra = 0)
    {
        int top = perSample + extra;
        return top == 1 ? "1 or -1 (0 is the batch)" : $"1..{top} or -{top}..-1 (0 is the batch)";
    }

    /// <summary>
    /// PyTorch's broadcast of two per-sample shapes, compared from the right: equal (symbols exactly), one of them 1, or
    /// missing. Null when they do not broadcast, with <paramref name="why"/> naming the first pair that fails.
    /// </summary>
    public static ImmutableArray<Dim>? Broadcast(IReadOnlyList<Dim> a, IReadOnlyList<Dim> b, out string why)
    {
        int rank = System.Math.Max(a.Count, b.Count);
        var result = new Dim[rank];
        for (int i = 1; i <= rank; i++)
        {
            var da = i <= a.Count ? a[a.Count - i] : Dim.Of(1);
            var db = i <= b.Count ? b[b.Count - i] : Dim.Of(1);
            if (da.Equals(db) || IsOne(db))
            {
                result[rank - i] = da;
            }
            else if (IsOne(da))
            {
                result[rank - i] = db;
            }
            else
            {
                why = $"per-sample dimension -{i} has sizes {da} and {db}";
                return null;
            }
        }
        why = "";
        return result.ToImmutableArray();
    }

    public static bool IsOne(Dim d) => d.IsConstant && d.Constant == 1;

    /// <summary>A rule's outcome of shape <paramref name="dims"/>: symbols kept when an input had some.</summary>
    public static LayerOutcome Outcome(string op, IReadOnlyList<Dim> dims, bool symbolicIn, long flops = 0)
        => new()
        {
            Op = op,
            Shape = dims.Select(d => d.IsConstant ? d.Constant : 1L).ToImmutableArray(),
            Dims = symbolicIn ? dims.ToImmutableArray() : default,
            Flops = flops,
        };

    /// <summary>The per-sample elements with each symbol counted as 1 (FLOPs and memory per sample count it so).</summary>
    public static long Count(IEnumerable<Dim> dims) => dims.Aggregate(1L, (p, d) => checked(p * (d.IsConstant ? d.Constant : 1L)));

    /// <summary>
    /// A product of dimensions as a constant times a multiset of symbolic factors (a dimension c*T counts c and T; any
    /// other expression, T-4, is one factor), so two shapes' element counts compare exactly whatever their order.
    /// </summary>
    public sealed class Product
    {
        public long Constant = 1;
        public readonly List<Dim> Factors = new();

        public static Product Of(IEnumerable<Dim> dims)
        {
            var p = new Product();
            foreach (var d in dims)
            {
                p.Multiply(d);
            }
            return p;
        }

        public void Multiply(Dim d)
        {
            if (d.IsConstant)
            {
                Constant = checked(Constant * d.Constant);
            }
            else if (d.Constant == 0 && d.Terms.Count == 1)
            {
                Constant = checked(Constant * d.Terms[0].Coefficient);
                Factors.Add(new Dim(0, Model.EquatableArray.From(new[] { d.Terms[0] with { Coefficient = 1 } })));
            }
            else
            {
                Factors.Add(d);
            }
        }

        public bool SameAs(Product other)
            => Constant == other.Constant && Key(Factors) == Key(other.Factors);

        /// <summary>This product divided by <paramref name="divisor"/> as one dimension, or null when it does not divide.</summary>
        public Dim? Over(Product divisor)
        {
            if (divisor.Constant == 0 || Constant % divisor.Constant != 0)
            {
                return null;
            }
            var left = Factors.ToList();
            foreach (var f in divisor.Factors)
            {
                int at = left.FindIndex(x => x.Equals(f));
                if (at < 0)
                {
                    return null;
                }
                left.RemoveAt(at);
            }
            Dim result = Dim.Of(Constant / divisor.Constant);
            foreach (var f in left.OrderBy(f => f.ToString(), System.StringComparer.Ordinal))
            {
                result = result * f;
            }
            return result;
        }

        public override string ToString()
        {
            var parts = new List<string>();
            if (Constant != 1 || Factors.Count == 0)
            {
                parts.Add(Constant.ToString(CultureInfo.InvariantCulture));
            }
            parts.AddRange(Factors.Select(f => f.Terms.Count == 1 && f.Constant == 0 ? f.ToString() : "(" + f + ")").OrderBy(s => s, System.StringComparer.Ordinal));
            return string.Join("*", parts);
        }

        private static string Key(IEnumerable<Dim> factors) => string.Join("|", factors.Select(f => f.ToString()).OrderBy(s => s, System.StringComparer.Ordinal));
    }
}
