namespace Dsl;

/// <summary>The recurrent cell a <see cref="RecurrentGeometry"/> describes (PyTorch's <c>nn.RNN</c>, <c>nn.LSTM</c>, <c>nn.GRU</c>).</summary>
public enum RecurrentKind
{
    /// <summary><c>nn.RNN(nonlinearity='tanh')</c>: h' = tanh(W_ih x + b_ih + W_hh h + b_hh).</summary>
    RnnTanh,

    /// <summary><c>nn.RNN(nonlinearity='relu')</c>: h' = relu(W_ih x + b_ih + W_hh h + b_hh).</summary>
    RnnRelu,

    /// <summary><c>nn.LSTM</c>, gates i, f, g, o in that order.</summary>
    Lstm,

    /// <summary><c>nn.GRU</c>, gates r, z, n with n = tanh(W_in x + b_in + r * (W_hn h + b_hn)).</summary>
    Gru,
}

/// <summary>
/// The scalar formulas of the sequence kernels, written once for both devices (plain static methods, callable from ILGPU
/// kernels): sequence lengths, the gate layouts of the recurrent cells and each cell's step and its derivative.
/// The CPU evaluates the same formulas over whole rows with <c>TensorPrimitives</c> where it can.
/// </summary>
public static class SequenceMath
{
    /// <summary>Gates per cell: 1 (RNN), 4 (LSTM: i, f, g, o), 3 (GRU: r, z, n); the weights hold Gates*H rows.</summary>
    public static int Gates(RecurrentKind kind) => kind switch
    {
        RecurrentKind.RnnTanh or RecurrentKind.RnnRelu => 1,
        RecurrentKind.Lstm => 4,
        RecurrentKind.Gru => 3,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown recurrent cell."),
    };

    /// <summary>
    /// Floats saved per (sample, time step) for backward besides the previous state: the RNN's new state, the LSTM's four
    /// gate activations, the GRU's r, z, n and W_hn h + b_hn.
    /// </summary>
    public static int SavedWidth(RecurrentKind kind, int hidden) => kind switch
    {
        RecurrentKind.RnnTanh or RecurrentKind.RnnRelu => hidden,
        RecurrentKind.Lstm => 4 * hidden,
        RecurrentKind.Gru => 4 * hidden,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown recurrent cell."),
    };

    /// <summary>
    /// A row's valid length clipped to [0, <paramref name="time"/>] (the GPU's rule for a bad length, which a kernel cannot
    /// throw for; the CPU refuses it instead). Without lengths every row is <paramref name="time"/> long.
    /// </summary>
    public static int ValidLength(long length, int time) => length < 0 ? 0 : length > time ? time : (int)length;

    /// <summary>
    /// The time index a row of valid length <paramref name="length"/> processes at step <paramref name="step"/> (PyTorch's
    /// packed sequences: forward from 0; reverse from length-1 down). Steps at or beyond the length are padding, where t = step.
    /// </summary>
    public static int TimeAt(int step, int length, bool reverse) => step >= length ? step : reverse ? length - 1 - step : step;

    /// <summary>The logistic function 1 / (1 + e^-x), written so that neither branch overflows.</summary>
    public static float Sigmoid(float x)
    {
        if (x >= 0f)
        {
            return 1f / (1f + MathF.Exp(-x));
        }
        float e = MathF.Exp(x);
        return e / (1f + e);
    }

    /// <summary>The RNN's nonlinearity applied to the summed pre-activation.</summary>
    public static float RnnActivation(float a, bool relu) => relu ? MathF.Max(a, 0f) : MathF.Tanh(a);

    /// <summary>d h' / d a of the RNN's nonlinearity, from its output h' (tanh: 1 - h'^2; relu: 1 where h' &gt; 0).</summary>
    public static float RnnDerivative(float h, bool relu) => relu ? (h > 0f ? 1f : 0f) : 1f - h * h;

    /// <summary>The LSTM's new cell state c' = f c + i g.</summary>
    public static float LstmCell(float i, float f, float g, float c) => f * c + i * g;

    /// <summary>The GRU's new state h' = (1 - z) n + z h.</summary>
    public static float GruState(float z, float n, float h) => (1f - z) * n + z * h;
}
