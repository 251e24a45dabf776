namespace Dsl.Tests.Sequence;

/// <summary>
/// One recurrent layer-direction in float64, written straight from PyTorch's documented equations with plain loops (no
/// workspace, no batching of the projections): the oracle the kernels and central differences are checked against.
/// Parameters are laid end to end in one vector so finite differences can perturb any of them.
/// </summary>
public sealed record RecurrentReference(RecurrentKind Kind, int Batch, int Time, int Input, int Hidden, bool Reverse, long[]? Lengths)
{
    public int Gates => SequenceMath.Gates(Kind);
    public int GateWidth => Gates * Hidden;

    /// <summary>Offsets in the parameter vector: x [N,T,D], h0 [N,H], c0 [N,H] (LSTM), W_ih, W_hh, b_ih, b_hh.</summary>
    public int XAt => 0;
    public int H0At => XAt + Batch * Time * Input;
    public int C0At => H0At + Batch * Hidden;
    public int WihAt => C0At + (Kind == RecurrentKind.Lstm ? Batch * Hidden : 0);
    public int WhhAt => WihAt + GateWidth * Input;
    public int BihAt => WhhAt + GateWidth * Hidden;
    public int BhhAt => BihAt + GateWidth;
    public int Count => BhhAt + GateWidth;

    /// <summary>Outputs [N,T,H] (0 at padding), then hLast [N,H], then cLast [N,H] for the LSTM.</summary>
    public double[] Forward(double[] v)
    {
        int n = Batch, time = Time, hid = Hidden, d = Input, gh = GateWidth;
        var result = new double[n * time * hid + n * hid * (Kind == RecurrentKind.Lstm ? 2 : 1)];
        int lastAt = n * time * hid;
        for (int r = 0; r < n; r++)
        {
            int len = Lengths is null ? time : (int)Lengths[r];
            var h = new double[hid];
            var c = new double[hid];
            for (int j = 0; j < hid; j++)
            {
                h[j] = v[H0At + r * hid + j];
                c[j] = Kind == RecurrentKind.Lstm ? v[C0At + r * hid + j] : 0;
            }
            for (int s = 0; s < len; s++)
            {
                int t = Reverse ? len - 1 - s : s;
                var xi = new double[gh];
                var hh = new double[gh];
                for (int k = 0; k < gh; k++)
                {
                    double a = v[BihAt + k], b = v[BhhAt + k];
                    for (int q = 0; q < d; q++)
                    {
                        a += v[WihAt + k * d + q] * v[XAt + (r * time + t) * d + q];
                    }
                    for (int q = 0; q < hid; q++)
                    {
                        b += v[WhhAt + k * hid + q] * h[q];
                    }
                    xi[k] = a;
                    hh[k] = b;
                }
                var hNew = new double[hid];
                for (int j = 0; j < hid; j++)
                {
                    switch (Kind)
                    {
                        case RecurrentKind.RnnTanh:
                            hNew[j] = Math.Tanh(xi[j] + hh[j]);
                            break;
                        case RecurrentKind.RnnRelu:
                            hNew[j] = Math.Max(0, xi[j] + hh[j]);
                            break;
                        case RecurrentKind.Lstm:
                        {
                            double i = Sigmoid(xi[j] + hh[j]), f = Sigmoid(xi[hid + j] + hh[hid + j]);
                            double g = Math.Tanh(xi[2 * hid + j] + hh[2 * hid + j]), o = Sigmoid(xi[3 * hid + j] + hh[3 * hid + j]);
                            c[j] = f * c[j] + i * g;
                            hNew[j] = o * Math.Tanh(c[j]);
                            break;
                        }
                        case RecurrentKind.Gru:
                        {
                            double rg = Sigmoid(xi[j] + hh[j]), z = Sigmoid(xi[hid + j] + hh[hid + j]);
                            double ng = Math.Tanh(xi[2 * hid + j] + rg * hh[2 * hid + j]);
                            hNew[j] = (1 - z) * ng + z * h[j];
                            break;
                        }
                        default:
                            throw new ArgumentOutOfRangeException(nameof(Kind));
                    }
                }
                h = hNew;
                for (int j = 0; j < hid; j++)
                {
                    result[(r * time + t) * hid + j] = h[j];
                }
            }
            for (int j = 0; j < hid; j++)
            {
                result[lastAt + r * hid + j] = h[j];
                if (Kind == RecurrentKind.Lstm)
                {
                    result[lastAt + n * hid + r * hid + j] = c[j];
                }
            }
        }
        return result;
    }

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));
}
