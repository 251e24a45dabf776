Console.WriteLine("Specs");
