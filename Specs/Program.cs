// The course's networks on Fashion-MNIST: list, summary, train, bench (see Specs.Cli.App.Usage).
return Specs.Cli.App.Run(args, Console.Out, Console.Error);
